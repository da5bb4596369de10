package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/orderflow/orderflow/app"
	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/app/query"
)

const poisonUsage = `usage: orderflow poison list              list parked messages, oldest first
       orderflow poison show ID           one message with its reason, metadata and payload
       orderflow poison requeue ID        send it back through the route it failed in
       orderflow poison purge [ID]        drop one message, or all of them
Store flags as for migrate (--postgres-url, --data-dir).`

// poisonCommand manages the poison queue through the admin use cases on the
// stores it opens itself, so it works whether or not the service runs.
func poisonCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, poisonUsage)
		return errors.New("missing poison subcommand")
	}
	sub, rest := args[0], args[1:]
	var id string
	if len(rest) > 0 && rest[0] != "" && rest[0][0] != '-' {
		id, rest = rest[0], rest[1:]
	}
	switch sub {
	case "list", "show", "requeue", "purge":
	default:
		fmt.Fprintln(stderr, poisonUsage)
		return fmt.Errorf("unknown poison subcommand %q", sub)
	}
	if (sub == "show" || sub == "requeue") && id == "" {
		return fmt.Errorf("poison %s needs a message id", sub)
	}
	return adminCommand(ctx, "poison "+sub, rest, stderr, func(ctx context.Context, admin app.Admin) error {
		return poisonDo(ctx, admin, sub, id, stdout)
	})
}

// adminCommand runs an operator's command: fn gets the admin use cases on
// the stores that the store flags in args name (migrated first), for a
// minute at most, whether or not the service runs.
func adminCommand(ctx context.Context, name string, args []string, stderr io.Writer,
	fn func(ctx context.Context, admin app.Admin) error) error {
	cfg, err := parseConfig(name, args, false, stderr)
	if err != nil {
		return err
	}
	cfg.AutoMigrate = true
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return withAdmin(ctx, cfg, func(admin app.Admin, _ *slog.Logger) error { return fn(ctx, admin) })
}

// poisonDo runs one poison subcommand.
func poisonDo(ctx context.Context, admin app.Admin, sub, id string, stdout io.Writer) error {
	switch sub {
	case "list":
		return poisonList(ctx, admin, stdout)
	case "show":
		m, err := admin.GetPoisoned.Handle(ctx, query.GetPoisoned{ID: id})
		if err != nil {
			return err
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			ID, MessageID, Topic, Handler, Reason string
			FirstFailedAt, PoisonedAt             time.Time
			Metadata                              map[string]string
			Payload                               string
		}{m.ID, m.MessageID, m.Topic, m.Handler, m.Reason, m.FirstFailedAt, m.PoisonedAt, m.Metadata, string(m.Payload)})
	case "requeue":
		m, err := admin.RequeuePoisoned.Handle(ctx, command.RequeuePoisoned{ID: id})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "requeued %s (message %s) to %s\n", m.ID, m.MessageID, m.Topic)
		return nil
	case "purge":
		return poisonPurge(ctx, admin, id, stdout)
	}
	return fmt.Errorf("unknown poison subcommand %q", sub)
}

func poisonList(ctx context.Context, admin app.Admin, stdout io.Writer) error {
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPOISONED AT\tHANDLER\tTOPIC\tREASON")
	after := ""
	for {
		page, err := admin.ListPoisoned.Handle(ctx, query.ListPoisoned{After: after, Limit: query.MaxPoisonPage})
		if err != nil {
			return err
		}
		for _, m := range page.Items {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.ID, m.PoisonedAt.Format(time.RFC3339), m.Handler, m.Topic, m.Reason)
		}
		if page.NextAfter == "" {
			return tw.Flush()
		}
		after = page.NextAfter
	}
}

func poisonPurge(ctx context.Context, admin app.Admin, id string, stdout io.Writer) error {
	purged, err := admin.PurgePoisoned.Handle(ctx, command.PurgePoisoned{ID: id, All: id == ""})
	if err != nil {
		return err
	}
	if id != "" {
		fmt.Fprintf(stdout, "purged %s\n", id)
	} else {
		fmt.Fprintf(stdout, "purged %d messages\n", purged.Count)
	}
	return nil
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/orderflow/orderflow/service"
)

const poisonUsage = `usage: orderflow poison list              list parked messages, oldest first
       orderflow poison show ID           one message with its reason, metadata and payload
       orderflow poison requeue ID        send it back through the route it failed in
       orderflow poison purge [ID]        drop one message, or all of them
Store flags as for migrate (--postgres-url, --data-dir).`

// poisonCommand manages the poison queue directly in the store, so it works
// whether or not the service runs.
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
	if (sub == "show" || sub == "requeue") && id == "" {
		return fmt.Errorf("poison %s needs a message id", sub)
	}
	cfg, err := parseConfig("poison "+sub, rest, false, stderr)
	if err != nil {
		return err
	}
	cfg.AutoMigrate = true
	st, err := service.Open(ctx, cfg, newLogger(cfg, os.Stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	switch sub {
	case "list":
		return poisonList(ctx, st, stdout)
	case "show":
		m, err := st.Poison.Get(ctx, id)
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
		m, err := st.Requeue(ctx, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "requeued %s (message %s) to %s\n", m.ID, m.MessageID, m.Topic)
		return nil
	case "purge":
		return poisonPurge(ctx, st, id, stdout)
	default:
		fmt.Fprintln(stderr, poisonUsage)
		return fmt.Errorf("unknown poison subcommand %q", sub)
	}
}

func poisonList(ctx context.Context, st *service.Adapters, stdout io.Writer) error {
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPOISONED AT\tHANDLER\tTOPIC\tREASON")
	after := ""
	for {
		page, err := st.Poison.List(ctx, after, 500)
		if err != nil {
			return err
		}
		for _, m := range page {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.ID, m.PoisonedAt.Format(time.RFC3339), m.Handler, m.Topic, m.Reason)
		}
		if len(page) < 500 {
			return tw.Flush()
		}
		after = page[len(page)-1].ID
	}
}

func poisonPurge(ctx context.Context, st *service.Adapters, id string, stdout io.Writer) error {
	if id != "" {
		if err := st.Poison.Delete(ctx, id); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "purged %s\n", id)
		return nil
	}
	n := 0
	for {
		page, err := st.Poison.List(ctx, "", 500)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			fmt.Fprintf(stdout, "purged %d messages\n", n)
			return nil
		}
		for _, m := range page {
			if err := st.Poison.Delete(ctx, m.ID); err != nil {
				return err
			}
			n++
		}
	}
}

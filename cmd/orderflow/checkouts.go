package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/user"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/orderflow/orderflow/app"
	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/app/query"
	"github.com/orderflow/orderflow/app/saga"
)

const checkoutsUsage = `usage: orderflow checkouts list [--state parked]         the checkouts in a state (default parked), by order id
       orderflow checkouts resume ORDER_ID | --all-parked  hand parked checkouts back to the saga: the state
                                                         they were parked in, attempts reset, due now
Store flags as for migrate (--postgres-url, --data-dir).`

// checkoutsCommand lists and resumes checkouts through the admin use cases
// on the stores it opens itself, so it works whether or not the service
// runs (a running deadline scanner picks a resumed checkout up at once).
func checkoutsCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || !slices.Contains([]string{"list", "resume"}, args[0]) {
		fmt.Fprintln(stderr, checkoutsUsage)
		if len(args) == 0 {
			return errors.New("missing checkouts subcommand")
		}
		return fmt.Errorf("unknown checkouts subcommand %q", args[0])
	}
	sub, rest := args[0], args[1:]
	state, all, id := saga.StateParked, false, ""
	if sub == "resume" && len(rest) > 0 && rest[0] != "" && rest[0][0] != '-' {
		id, rest = rest[0], rest[1:]
	}
	var storeFlags []string
	for i := 0; i < len(rest); i++ {
		switch a := rest[i]; {
		case a == "--state" && sub == "list" && i+1 < len(rest):
			state, i = rest[i+1], i+1
		case a == "--all-parked" && sub == "resume":
			all = true
		default:
			storeFlags = append(storeFlags, a)
		}
	}
	if sub == "resume" && (id == "") == !all {
		fmt.Fprintln(stderr, checkoutsUsage)
		return errors.New("checkouts resume needs an order id or --all-parked, not both")
	}
	return adminCommand(ctx, "checkouts "+sub, storeFlags, stderr, func(ctx context.Context, admin app.Admin) error {
		if sub == "list" {
			return checkoutsList(ctx, admin, state, stdout)
		}
		res, err := admin.ResumeCheckouts.Handle(ctx, command.ResumeCheckouts{OrderID: id, AllParked: all, Operator: cliOperator()})
		for _, c := range res.Checkouts {
			fmt.Fprintf(stdout, "resumed %s in state %s\n", c.OrderID, c.State)
		}
		if err == nil && all {
			fmt.Fprintf(stdout, "resumed %d checkouts\n", len(res.Checkouts))
		}
		return err
	})
}

func checkoutsList(ctx context.Context, admin app.Admin, state string, stdout io.Writer) error {
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ORDER ID\tSTATE\tPARKED IN\tATTEMPTS\tUPDATED AT\tREASON")
	for after := ""; ; {
		page, err := admin.ListCheckouts.Handle(ctx, query.ListCheckouts{State: state, After: after, Limit: query.MaxCheckoutPage})
		if err != nil {
			return err
		}
		for _, c := range page.Items {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", c.OrderID, c.State, c.ResumeState, c.Attempts,
				c.UpdatedAt.Format(time.RFC3339), c.Reason)
		}
		if page.NextAfter == "" {
			return tw.Flush()
		}
		after = page.NextAfter
	}
}

// cliOperator names the operator of a CLI command in a checkout's step log.
func cliOperator() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	return "cli"
}

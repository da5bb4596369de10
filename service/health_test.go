package service

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/orderflow/orderflow/router"
)

// Each role reports its own readiness; the process ("") reports /readyz's.
func TestReadinessPerRole(t *testing.T) {
	down := errors.New("down")
	all := router.AllRoles
	for _, c := range []struct {
		name         string
		checked      readiness
		roles        router.Roles
		process      bool
		api, workers bool
	}{
		{"all well", readiness{}, all, true, true, true},
		{"store down", readiness{store: down}, all, false, false, false},
		{"broker down", readiness{broker: down}, all, false, true, false},
		{"router stopped", readiness{router: down}, all, false, true, false},
		// /readyz of a saga-only process checks the store only.
		{"saga only, router stopped", readiness{router: down}, router.Roles{router.RoleSaga}, true, true, false},
	} {
		if got := c.checked.process(c.roles) == nil; got != c.process {
			t.Errorf("%s: process ready %v", c.name, got)
		}
		if got := c.checked.role(router.RoleAPI) == nil; got != c.api {
			t.Errorf("%s: api ready %v", c.name, got)
		}
		for _, r := range []router.Role{router.RoleForwarder, router.RoleProjections, router.RoleSaga} {
			if got := c.checked.role(r) == nil; got != c.workers {
				t.Errorf("%s: %s ready %v", c.name, r, got)
			}
		}
	}
}

// The health service of a running process: every role it runs SERVING, a
// role it does not run unknown; once its router stops, the roles that need
// the router and the process turn NOT_SERVING while the api role and the API
// services go on serving.
func TestHealthPerRole(t *testing.T) {
	m := NewMain(Config{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0"})
	m.Config.Roles = "api,projections"
	m.Logger = slog.New(slog.DiscardHandler)
	defer func() {
		if err := m.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}()
	if err := m.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(m.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	health := healthpb.NewHealthClient(conn)
	statuses := func() map[string]string {
		got := map[string]string{}
		for _, service := range []string{"", "orderflow.v1.OrderService", "orderflow.role.api",
			"orderflow.role.projections", "orderflow.role.saga"} {
			res, err := health.Check(t.Context(), &healthpb.HealthCheckRequest{Service: service})
			got[service] = res.GetStatus().String()
			if err != nil {
				got[service] = "error"
			}
		}
		return got
	}
	want := map[string]string{"": "SERVING", "orderflow.v1.OrderService": "SERVING", "orderflow.role.api": "SERVING",
		"orderflow.role.projections": "SERVING", "orderflow.role.saga": "error"}
	waitForStatuses(t, statuses, want)

	if err := m.router.Close(); err != nil {
		t.Fatal(err)
	}
	want[""], want["orderflow.role.projections"] = "NOT_SERVING", "NOT_SERVING"
	waitForStatuses(t, statuses, want) // at the next refresh, healthInterval
}

func waitForStatuses(t *testing.T, statuses func() map[string]string, want map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*healthInterval)
	defer cancel()
	for {
		got := statuses()
		if maps.Equal(got, want) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("health %v, want %v", got, want)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/orderflow/orderflow/router"
)

// readiness is what one round of readiness checks found: each field is the
// failure of one check, nil when it passed or was not made.
type readiness struct {
	store, broker, router error
}

// checkReadiness pings the store, and with broker also the broker and asks
// whether the router runs. The read cache is not checked: the service works
// without it.
func (m *Main) checkReadiness(ctx context.Context, broker bool) readiness {
	var r readiness
	if err := m.stack.ping(ctx); err != nil {
		r.store = fmt.Errorf("store: %w", err)
	}
	if broker {
		if err := m.stack.Broker.Ping(ctx); err != nil {
			r.broker = fmt.Errorf("broker %s: %w", m.stack.Broker.Name, err)
		}
		// Watermill's IsRunning stays true once the router has run: a
		// router that stopped since is closed.
		if !m.router.IsRunning() || m.router.IsClosed() {
			r.router = fmt.Errorf("router (roles %s): not running", m.Config.roles())
		}
	}
	return r
}

// ready is the readiness check of the process (/readyz, and the gRPC health
// service's ""): the store answers (every role uses it); with the forwarder
// or projections, the broker answers and the router runs.
func (m *Main) ready(ctx context.Context) error {
	roles := m.Config.roles()
	return m.checkReadiness(ctx, processNeedsBroker(roles)).process(roles)
}

func processNeedsBroker(roles router.Roles) bool {
	return roles.Has(router.RoleForwarder) || roles.Has(router.RoleProjections)
}

func (r readiness) process(roles router.Roles) error {
	if processNeedsBroker(roles) {
		return errors.Join(r.store, r.broker, r.router)
	}
	return r.store
}

// role is the readiness of one role, from what that role uses: api, the
// store (its commands and queries); forwarder, projections and saga, the
// store, the broker and the router running (the handlers of projections and
// saga run on the router, and the forwarder runs while the router does:
// forwarderRunner). No role has a readiness signal of its own beyond these.
// Unlike the process's check, saga's includes the broker and the router,
// which its handlers need.
func (r readiness) role(role router.Role) error {
	if role == router.RoleAPI {
		return r.store
	}
	return errors.Join(r.store, r.broker, r.router)
}

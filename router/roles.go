package router

import (
	"fmt"
	"slices"
	"strings"
)

// Role is one part of the service that a process may run. Processes with the
// same role share its work: each handler subscribes in its own consumer
// group, and subscribers of one group compete for messages, so running a
// role in several processes scales it out and lets one take over when
// another dies.
type Role string

const (
	// RoleAPI serves the HTTP API (commands and queries).
	RoleAPI Role = "api"
	// RoleForwarder moves outbox messages to the broker.
	RoleForwarder Role = "forwarder"
	// RoleProjections runs the read model handlers.
	RoleProjections Role = "projections"
	// RoleSaga runs the process managers' handlers (checkout) and the
	// notifications. Any number of processes may run it: the saga's state
	// and the payment sandbox's live in the database.
	RoleSaga Role = "saga"
)

// AllRoles is every role, in the order they are documented.
var AllRoles = Roles{RoleAPI, RoleForwarder, RoleProjections, RoleSaga}

// Roles is the set of roles a process runs. The zero value means all.
type Roles []Role

// ParseRoles reads a comma-separated list ("api,forwarder"); "all" or an
// empty string is every role. Unknown names are an error naming them.
func ParseRoles(s string) (Roles, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "all" {
		return slices.Clone(AllRoles), nil
	}
	var rs Roles
	for name := range strings.SplitSeq(s, ",") {
		r := Role(strings.TrimSpace(name))
		if r == "all" {
			return slices.Clone(AllRoles), nil
		}
		if !slices.Contains(AllRoles, r) {
			return nil, fmt.Errorf("unknown role %q (roles: %s, or all)", r, AllRoles)
		}
		if !slices.Contains(rs, r) {
			rs = append(rs, r)
		}
	}
	return rs, nil
}

// Has reports whether r is in the set; the empty set has every role.
func (rs Roles) Has(r Role) bool { return len(rs) == 0 || slices.Contains(rs, r) }

func (rs Roles) String() string {
	if len(rs) == 0 {
		return AllRoles.String()
	}
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = string(r)
	}
	return strings.Join(names, ",")
}

package router_test

import (
	"slices"
	"testing"

	"github.com/orderflow/orderflow/router"
)

func TestParseRoles(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want router.Roles
		err  bool
	}{
		{in: "", want: router.AllRoles},
		{in: "all", want: router.AllRoles},
		{in: "api", want: router.Roles{router.RoleAPI}},
		{in: " api , projections,api", want: router.Roles{router.RoleAPI, router.RoleProjections}},
		{in: "forwarder,all", want: router.AllRoles},
		{in: "saga", want: router.Roles{router.RoleSaga}},
		{in: "api,web", err: true},
		{in: "api,", err: true},
	} {
		got, err := router.ParseRoles(tc.in)
		if (err != nil) != tc.err || !slices.Equal(got, tc.want) {
			t.Errorf("ParseRoles(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
	api := router.Roles{router.RoleAPI}
	if !api.Has(router.RoleAPI) || api.Has(router.RoleForwarder) {
		t.Errorf("%v.Has is wrong", api)
	}
	if !(router.Roles{}).Has(router.RoleProjections) {
		t.Error("the empty set must have every role")
	}
}

package service

import (
	"context"
	"log/slog"
	"strings"

	"github.com/orderflow/orderflow/internal/telemetry"
	"github.com/orderflow/orderflow/router"
)

// setupTracing installs the process's tracer provider (telemetry.Setup)
// when c.Tracing has an endpoint, and returns the flush to run at Close.
// OTEL_SERVICE_NAME unset, the service is named after the process's roles:
// "orderflow" for all of them, "orderflow-saga" and the like for a
// deployment split by role, so each role is a service of its own in
// Jaeger.
func setupTracing(ctx context.Context, c Config, logger *slog.Logger) (func(context.Context) error, error) {
	tc := c.Tracing
	if !tc.Enabled() {
		return func(context.Context) error { return nil }, nil
	}
	roles := c.roles()
	if tc.ServiceName == "" {
		tc.ServiceName = serviceName(roles)
	}
	tc.Attributes = map[string]string{"orderflow.roles": roles.String(), "orderflow.store": c.StoreName()}
	flush, err := telemetry.Setup(ctx, tc)
	if err != nil {
		return nil, err
	}
	protocol := tc.Protocol
	if protocol == "" {
		protocol = telemetry.ProtocolHTTP
	}
	logger.Info("tracing on", "otlp_endpoint", tc.Endpoint, "protocol", protocol, "service_name", tc.ServiceName,
		"sampler", tc.Sampler, "sampler_arg", tc.SamplerArg)
	return flush, nil
}

// serviceName is service.name for roles.
func serviceName(roles router.Roles) string {
	if roles.String() == router.AllRoles.String() {
		return telemetry.DefaultServiceName
	}
	return telemetry.DefaultServiceName + "-" + strings.ReplaceAll(roles.String(), ",", "-")
}

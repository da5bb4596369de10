package archtest

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// brokerClients are the libraries that talk to a broker or a database
// server. Only the broker adapters (and the composition root) may link them.
var brokerClients = []string{
	"github.com/IBM/sarama",
	"github.com/nats-io/",
	"github.com/rabbitmq/amqp091-go",
	"github.com/redis/go-redis/",
	"github.com/jackc/pgx/",
}

// TestRouterLinksNoBrokerClient: the router, the outbox forwarder and the
// broker base package depend on no broker client, even indirectly (the
// import rules above only see direct imports).
func TestRouterLinksNoBrokerClient(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range []string{"./router/", "./outbox/", "./adapters/broker/"} {
		cmd := exec.Command("go", "list", "-deps", pkg) // the go on PATH, as the e2e builds use
		cmd.Dir = root
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for dep := range strings.FieldsSeq(string(out)) {
			for _, c := range brokerClients {
				if strings.HasPrefix(dep, c) {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
}

package kafka

import (
	"testing"
	"time"
)

// TestSaramaJoinGroupOutlastsRebalance: a JoinGroup response may come as
// late as the rebalance timeout, so Sarama must not give up reading it
// earlier; otherwise a rebalance waiting for a killed member can loop on
// "i/o timeout" (IBM/sarama#2820). Sarama's own defaults fail this.
func TestSaramaJoinGroupOutlastsRebalance(t *testing.T) {
	cfg := Config{Brokers: []string{"127.0.0.1:9092"}}
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	c := saramaConfig(cfg)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	read, rebalance, session := c.Net.ReadTimeout, c.Consumer.Group.Rebalance.Timeout, c.Consumer.Group.Session.Timeout
	if read <= rebalance {
		t.Fatalf("Net.ReadTimeout %s must exceed Consumer.Group.Rebalance.Timeout %s", read, rebalance)
	}
	if rebalance < session {
		t.Fatalf("Consumer.Group.Rebalance.Timeout %s is below the session timeout %s: a dead member could not be dropped within one rebalance", rebalance, session)
	}
}

// The heartbeat defaults to a third of the session and must stay below it:
// a member beating only once a session is dropped by one late beat.
func TestHeartbeatStaysBelowTheSession(t *testing.T) {
	cfg := Config{Brokers: []string{"127.0.0.1:9092"}, SessionTimeout: 9 * time.Second, RebalanceTimeout: 12 * time.Second}
	cfg.setDefaults()
	if got := saramaConfig(cfg).Consumer.Group.Heartbeat.Interval; got != 3*time.Second {
		t.Fatalf("default heartbeat %s, want 3s", got)
	}
	cfg.HeartbeatInterval = cfg.SessionTimeout
	if err := cfg.Validate(); err == nil {
		t.Fatal("a heartbeat as long as the session was accepted")
	}
}

package paymentsandbox_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/adapters/paymentsandbox"
	"github.com/orderflow/orderflow/adapters/sqlite"
	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/ports"
	"github.com/orderflow/orderflow/ports/porttest"
)

// database is one database holding the sandbox's state. open returns a
// gateway on a connection pool of its own, as a new process (or the same
// one after a restart) would have.
type database struct {
	name string
	open func(t *testing.T, cfg paymentsandbox.Config) *paymentsandbox.Gateway
}

// databases returns a fresh database of each kind for t.
func databases(t *testing.T) []database {
	return []database{sqliteDatabase(t), postgresDatabase(t)}
}

func sqliteDatabase(t *testing.T) database {
	path := filepath.Join(t.TempDir(), "orderflow.db")
	return database{"sqlite", func(t *testing.T, cfg paymentsandbox.Config) *paymentsandbox.Gateway {
		db, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return paymentsandbox.NewSQLite(db, cfg)
	}}
}

func postgresDatabase(t *testing.T) database {
	url := testenv.PostgresURL(t)
	return database{"postgres", func(t *testing.T, cfg paymentsandbox.Config) *paymentsandbox.Gateway {
		pool, err := pgxpool.New(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		return paymentsandbox.NewPostgres(pool, cfg)
	}}
}

var tokens = porttest.PaymentTokens{Approve: paymentsandbox.TokenApprove, Decline: paymentsandbox.TokenDecline}

func TestGatewayContract(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		porttest.RunPaymentGateway(t, func(t *testing.T) ports.PaymentGateway {
			return sqliteDatabase(t).open(t, paymentsandbox.Config{Latency: time.Millisecond})
		}, tokens)
	})
	t.Run("postgres", func(t *testing.T) {
		porttest.RunPaymentGateway(t, func(t *testing.T) ports.PaymentGateway {
			return postgresDatabase(t).open(t, paymentsandbox.Config{Latency: time.Millisecond})
		}, tokens)
	})
}

func request(key, token string) ports.AuthorizeRequest {
	return ports.AuthorizeRequest{IdempotencyKey: key, Token: token, Amount: 1250, Currency: "EUR"}
}

func approve(t *testing.T, g *paymentsandbox.Gateway) ports.Authorization {
	t.Helper()
	a, err := g.Authorize(t.Context(), request(uuid.NewString(), paymentsandbox.TokenApprove))
	if err != nil || !a.Approved || a.ID == "" {
		t.Fatalf("authorize: %+v, %v", a, err)
	}
	return a
}

func expectState(t *testing.T, g *paymentsandbox.Gateway, id, want string) {
	t.Helper()
	if got, err := g.State(t.Context(), id); err != nil || got != want {
		t.Fatalf("authorization %s: %q, %v; want %q", id, got, err, want)
	}
}

// tok_timeout answers after the caller gave up; the same key then returns
// the late authorization, which can be voided. Until the provider answers,
// the authorization does not exist for anyone.
func TestTimeoutTokenAuthorizesLate(t *testing.T) {
	for _, d := range databases(t) {
		t.Run(d.name, func(t *testing.T) {
			g := d.open(t, paymentsandbox.Config{LateAfter: 300 * time.Millisecond})
			req := request("k1", paymentsandbox.TokenTimeout)
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			defer cancel()
			if _, err := g.Authorize(ctx, req); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("first answer: %v, want the caller's deadline", err)
			}
			late, err := g.Authorize(t.Context(), req)
			if err != nil || !late.Approved || late.ID == "" {
				t.Fatalf("replay: %+v, %v; want the late approval", late, err)
			}
			if err := g.Void(t.Context(), "v1", late.ID); err != nil {
				t.Fatal(err)
			}
			expectState(t, g, late.ID, paymentsandbox.StateVoided)
		})
	}
}

// A request whose caller gives up within the provider's latency still
// completes: the repeat with its key returns the authorization made.
func TestAuthorizationCompletesAfterCallerGaveUp(t *testing.T) {
	for _, d := range databases(t) {
		t.Run(d.name, func(t *testing.T) {
			g := d.open(t, paymentsandbox.Config{Latency: 200 * time.Millisecond})
			req := request("k1", paymentsandbox.TokenApprove)
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
			defer cancel()
			if _, err := g.Authorize(ctx, req); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("first answer: %v, want the caller's deadline", err)
			}
			a, err := g.Authorize(t.Context(), req)
			if err != nil || !a.Approved {
				t.Fatalf("replay: %+v, %v", a, err)
			}
			if err := g.Capture(t.Context(), "c1", a.ID); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestUnknownTokenDeclines(t *testing.T) {
	for _, d := range databases(t) {
		t.Run(d.name, func(t *testing.T) {
			g := d.open(t, paymentsandbox.Config{})
			a, err := g.Authorize(t.Context(), ports.AuthorizeRequest{IdempotencyKey: "k", Token: "tok_nope"})
			if err != nil || a.Approved || a.DeclineCode != "invalid_payment_method" || a.ID != "" {
				t.Fatalf("%+v, %v", a, err)
			}
		})
	}
}

// An authorization made by one gateway can be captured or voided by a new
// one on the same database (another process, or this one restarted), and
// the operations' keys are remembered across them too.
func TestNewInstanceCapturesAndVoids(t *testing.T) {
	for _, d := range databases(t) {
		t.Run(d.name, func(t *testing.T) {
			before := d.open(t, paymentsandbox.Config{})
			toCapture, toVoid := approve(t, before), approve(t, before)

			after := d.open(t, paymentsandbox.Config{})
			if err := after.Capture(t.Context(), "capture-1", toCapture.ID); err != nil {
				t.Fatalf("capture by a new instance: %v", err)
			}
			if err := after.Void(t.Context(), "void-1", toVoid.ID); err != nil {
				t.Fatalf("void by a new instance: %v", err)
			}
			expectState(t, before, toCapture.ID, paymentsandbox.StateCaptured)
			expectState(t, before, toVoid.ID, paymentsandbox.StateVoided)
			if err := before.Capture(t.Context(), "capture-1", toCapture.ID); err != nil {
				t.Fatalf("repeated capture in the first instance: %v", err)
			}
			if err := before.Capture(t.Context(), "capture-2", toVoid.ID); !errors.Is(err, ports.ErrAuthorizationState) {
				t.Fatalf("capture of the voided authorization: %v, want ErrAuthorizationState", err)
			}
			if err := after.Capture(t.Context(), "capture-2", toVoid.ID); !errors.Is(err, ports.ErrAuthorizationState) {
				t.Fatalf("its repeat: %v, want the same refusal", err)
			}
		})
	}
}

// A tok_timeout authorization requested in one process completes late,
// after that process gave up; another process then finds it by its key,
// not before the provider answered, and voids it.
func TestLateAuthorizationSeenByAnotherInstance(t *testing.T) {
	for _, d := range databases(t) {
		t.Run(d.name, func(t *testing.T) {
			first := d.open(t, paymentsandbox.Config{LateAfter: 400 * time.Millisecond})
			req := request("late", paymentsandbox.TokenTimeout)
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			defer cancel()
			if _, err := first.Authorize(ctx, req); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("first answer: %v, want the caller's deadline", err)
			}
			// The second instance would answer tok_timeout after a minute:
			// the request's own answer time, stored with it, wins.
			second := d.open(t, paymentsandbox.Config{LateAfter: time.Minute})
			rctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			late, err := second.Authorize(rctx, req)
			if err != nil || !late.Approved || late.ID == "" {
				t.Fatalf("replay in another instance: %+v, %v", late, err)
			}
			again, err := first.Authorize(t.Context(), req)
			if err != nil || again != late {
				t.Fatalf("replay in the first instance: %+v, %v; want %+v", again, err, late)
			}
			if err := second.Void(t.Context(), "void-late", late.ID); err != nil {
				t.Fatal(err)
			}
			expectState(t, first, late.ID, paymentsandbox.StateVoided)
		})
	}
}

// Concurrent Authorize calls with one key, from two instances, make one
// authorization.
func TestConcurrentAuthorizeOneAuthorization(t *testing.T) {
	for _, d := range databases(t) {
		t.Run(d.name, func(t *testing.T) {
			gws := []*paymentsandbox.Gateway{d.open(t, paymentsandbox.Config{}), d.open(t, paymentsandbox.Config{})}
			for round := range 5 {
				key := uuid.NewString()
				const callers = 8
				got := make([]ports.Authorization, callers)
				errs := make([]error, callers)
				var wg sync.WaitGroup
				for i := range callers {
					wg.Go(func() { got[i], errs[i] = gws[i%2].Authorize(t.Context(), request(key, paymentsandbox.TokenApprove)) })
				}
				wg.Wait()
				for i := range callers {
					if errs[i] != nil || !got[i].Approved || got[i] != got[0] {
						t.Fatalf("round %d caller %d: %+v, %v; caller 0 got %+v", round, i, got[i], errs[i], got[0])
					}
				}
				expectState(t, gws[1], got[0].ID, paymentsandbox.StateAuthorized)
			}
		})
	}
}

// A capture and a void racing from two instances: exactly one wins, the
// other is refused with ErrAuthorizationState, the state is the winner's,
// and both keys keep answering as they did.
func TestCaptureVoidRace(t *testing.T) {
	for _, d := range databases(t) {
		t.Run(d.name, func(t *testing.T) {
			capturer, voider := d.open(t, paymentsandbox.Config{}), d.open(t, paymentsandbox.Config{})
			wins := map[string]int{}
			for round := range 10 {
				a := approve(t, capturer)
				cKey, vKey := uuid.NewString(), uuid.NewString()
				var cErr, vErr error
				var wg sync.WaitGroup
				wg.Go(func() { cErr = capturer.Capture(t.Context(), cKey, a.ID) })
				wg.Go(func() { vErr = voider.Void(t.Context(), vKey, a.ID) })
				wg.Wait()
				var want string
				switch {
				case cErr == nil && errors.Is(vErr, ports.ErrAuthorizationState):
					want = paymentsandbox.StateCaptured
				case vErr == nil && errors.Is(cErr, ports.ErrAuthorizationState):
					want = paymentsandbox.StateVoided
				default:
					t.Fatalf("round %d: capture %v, void %v; want exactly one refused", round, cErr, vErr)
				}
				wins[want]++
				expectState(t, voider, a.ID, want)
				if err := voider.Capture(t.Context(), cKey, a.ID); !sameOutcome(err, cErr) {
					t.Fatalf("round %d: capture repeated: %v, first %v", round, err, cErr)
				}
				if err := capturer.Void(t.Context(), vKey, a.ID); !sameOutcome(err, vErr) {
					t.Fatalf("round %d: void repeated: %v, first %v", round, err, vErr)
				}
			}
			t.Logf("winners over 10 races: %v", wins)
		})
	}
}

func sameOutcome(a, b error) bool {
	return (a == nil) == (b == nil) && errors.Is(a, ports.ErrAuthorizationState) == errors.Is(b, ports.ErrAuthorizationState)
}

// A key reused for another request is rejected, as real providers do.
func TestIdempotencyKeyReused(t *testing.T) {
	for _, d := range databases(t) {
		t.Run(d.name, func(t *testing.T) {
			g := d.open(t, paymentsandbox.Config{})
			a, err := g.Authorize(t.Context(), request("k", paymentsandbox.TokenApprove))
			if err != nil {
				t.Fatal(err)
			}
			other := request("k", paymentsandbox.TokenApprove)
			other.Amount++
			if _, err := g.Authorize(t.Context(), other); !errors.Is(err, paymentsandbox.ErrIdempotencyKeyReused) {
				t.Fatalf("same key, another amount: %v", err)
			}
			if _, err := g.Authorize(t.Context(), request("k", paymentsandbox.TokenDecline)); !errors.Is(err, paymentsandbox.ErrIdempotencyKeyReused) {
				t.Fatalf("same key, another token: %v", err)
			}
			if err := g.Capture(t.Context(), "op", a.ID); err != nil {
				t.Fatal(err)
			}
			if err := g.Void(t.Context(), "op", a.ID); !errors.Is(err, paymentsandbox.ErrIdempotencyKeyReused) {
				t.Fatalf("capture key reused to void: %v", err)
			}
			b := approve(t, g)
			if err := g.Capture(t.Context(), "op", b.ID); !errors.Is(err, paymentsandbox.ErrIdempotencyKeyReused) {
				t.Fatalf("capture key reused for another authorization: %v", err)
			}
			expectState(t, g, b.ID, paymentsandbox.StateAuthorized)
			if _, err := g.Authorize(t.Context(), ports.AuthorizeRequest{Token: paymentsandbox.TokenApprove}); err == nil {
				t.Fatal("authorize without a key succeeded")
			}
		})
	}
}

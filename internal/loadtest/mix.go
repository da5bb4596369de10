package loadtest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/orderflow/orderflow/internal/defaults"
)

// The payment sandbox's test tokens (adapters/paymentsandbox): approved,
// declined, and answered only after the checkout deadline.
const (
	tokenApprove = "tok_visa"
	tokenDecline = "tok_chargeDeclined"
	tokenTimeout = "tok_timeout"
)

// Mix is what the orders look like and what happens to them. The shares
// are fractions (0.05 is 5 %); unlike the other fields a zero share means
// none, so only the flags give them defaults (DefaultMix).
type Mix struct {
	SKUs     int     // distinct SKUs
	ZipfS    float64 // Zipf exponent of SKU popularity, > 1
	MaxItems int     // an order has 1..MaxItems lines of distinct SKUs, one unit each

	Declined float64 // share paid with a declined card: checkout cancels them
	TimedOut float64 // share paid with a card answered too late: cancelled at the deadline
	Cancel   float64 // share of confirmed orders the loadtest cancels
	Ship     float64 // share of confirmed orders the loadtest ships, then delivers
}

// DefaultMix is the flags' mix: 1000 SKUs at Zipf 1.1, up to 3 lines, 5 %
// declined and 0.1 % timed-out payments (each holds a checkout for the
// service's whole checkout deadline), 10 % of confirmed orders cancelled and
// half shipped and delivered.
func DefaultMix() Mix {
	return Mix{SKUs: 1000, ZipfS: 1.1, MaxItems: 3, Declined: 0.05, TimedOut: 0.001, Cancel: 0.1, Ship: 0.5}
}

func (m *Mix) setDefaults() {
	def := DefaultMix()
	defaults.Set(&m.SKUs, def.SKUs)
	defaults.Set(&m.ZipfS, def.ZipfS)
	defaults.Set(&m.MaxItems, def.MaxItems)
}

func (m Mix) validate() error {
	var errs []error
	if m.SKUs < 1 {
		errs = append(errs, errors.New("--skus must be at least 1"))
	}
	if m.ZipfS <= 1 {
		errs = append(errs, errors.New("--zipf-s must be greater than 1"))
	}
	if m.MaxItems < 1 || m.MaxItems > m.SKUs {
		errs = append(errs, fmt.Errorf("--max-items must be between 1 and --skus (%d)", m.SKUs))
	}
	for name, v := range map[string]float64{"--declined": m.Declined, "--timed-out": m.TimedOut, "--cancel": m.Cancel, "--ship": m.Ship} {
		if v < 0 || v > 1 {
			errs = append(errs, fmt.Errorf("%s must be between 0 and 1", name))
		}
	}
	if m.Declined+m.TimedOut > 1 {
		errs = append(errs, errors.New("--declined plus --timed-out must be at most 1"))
	}
	if m.Cancel+m.Ship > 1 {
		errs = append(errs, errors.New("--cancel plus --ship must be at most 1"))
	}
	return errors.Join(errs...)
}

// After is what the loadtest does with an order once it is confirmed.
type After int

const (
	Keep           After = iota // nothing
	CancelIt                    // POST cancel
	ShipAndDeliver              // POST ship, then POST deliver
)

// Order is one order the mix drew: its lines' SKU indexes (0 is the most
// popular), its payment token, and what follows its confirmation.
type Order struct {
	SKUs  []int
	Token string
	After After
}

// drawer draws orders from a Mix. It is not safe for concurrent use.
type drawer struct {
	mix  Mix
	rng  *rand.Rand
	zipf *rand.Zipf
}

func newDrawer(m Mix, seed uint64) *drawer {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return &drawer{mix: m, rng: rng, zipf: rand.NewZipf(rng, m.ZipfS, 1, uint64(m.SKUs-1))}
}

// draw returns the next order: 1..MaxItems distinct SKUs by Zipf
// popularity, a token by the payment shares, an After by the others.
func (d *drawer) draw() Order {
	n := 1 + d.rng.IntN(d.mix.MaxItems)
	skus := make([]int, 0, n)
	for len(skus) < n {
		s := int(d.zipf.Uint64())
		if !slices.Contains(skus, s) {
			skus = append(skus, s)
		}
	}
	o := Order{SKUs: skus, Token: tokenApprove}
	switch p := d.rng.Float64(); {
	case p < d.mix.Declined:
		o.Token = tokenDecline
	case p < d.mix.Declined+d.mix.TimedOut:
		o.Token = tokenTimeout
	}
	switch p := d.rng.Float64(); {
	case p < d.mix.Cancel:
		o.After = CancelIt
	case p < d.mix.Cancel+d.mix.Ship:
		o.After = ShipAndDeliver
	}
	return o
}

package loadtest

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// SKU popularity follows Zipf: with P(k) ∝ (1+k)^-s the most popular SKU is
// drawn about 2^s times as often as the second and 11^s times as often as
// the eleventh; every order's lines are distinct SKUs, 1..MaxItems of them.
func TestMixSKUsFollowZipf(t *testing.T) {
	m := Mix{SKUs: 1000, ZipfS: 1.5, MaxItems: 1}
	d := newDrawer(m, 42)
	counts := make([]int, m.SKUs)
	const n = 200000
	for range n {
		counts[d.draw().SKUs[0]]++
	}
	for _, c := range []struct {
		k    int
		want float64
	}{{1, math.Pow(2, 1.5)}, {10, math.Pow(11, 1.5)}} {
		ratio := float64(counts[0]) / float64(counts[c.k])
		if math.Abs(ratio-c.want) > 0.15*c.want {
			t.Errorf("rank 0 / rank %d drawn %.2f times as often, want about %.2f", c.k, ratio, c.want)
		}
	}
	if counts[0] < n/3 {
		t.Errorf("the top SKU has %d of %d draws: not skewed", counts[0], n)
	}

	d = newDrawer(Mix{SKUs: 5, ZipfS: 1.1, MaxItems: 5}, 7)
	sizes := map[int]int{}
	for range 2000 {
		o := d.draw()
		sizes[len(o.SKUs)]++
		sorted := slices.Clone(o.SKUs)
		slices.Sort(sorted)
		if len(slices.Compact(sorted)) != len(o.SKUs) {
			t.Fatalf("order with a SKU twice: %v", o.SKUs)
		}
	}
	for k := 1; k <= 5; k++ {
		if sizes[k] < 300 {
			t.Errorf("orders of %d lines: %d of 2000, want about 400", k, sizes[k])
		}
	}
}

// Payment tokens and follow-up actions come in the shares asked for, and
// the same seed draws the same orders.
func TestMixSharesAndSeed(t *testing.T) {
	m := Mix{SKUs: 10, ZipfS: 1.2, MaxItems: 2, Declined: 0.1, TimedOut: 0.05, Cancel: 0.2, Ship: 0.5}
	d := newDrawer(m, 3)
	tokens, afters := map[string]int{}, map[After]int{}
	const n = 40000
	for range n {
		o := d.draw()
		tokens[o.Token]++
		afters[o.After]++
	}
	near := func(what string, got int, share float64) {
		if want := share * n; math.Abs(float64(got)-want) > 0.1*want {
			t.Errorf("%s: %d of %d, want about %.0f", what, got, n, want)
		}
	}
	near(tokenDecline, tokens[tokenDecline], 0.1)
	near(tokenTimeout, tokens[tokenTimeout], 0.05)
	near(tokenApprove, tokens[tokenApprove], 0.85)
	near("cancel", afters[CancelIt], 0.2)
	near("ship", afters[ShipAndDeliver], 0.5)
	near("keep", afters[Keep], 0.3)

	a, b := newDrawer(m, 99), newDrawer(m, 99)
	for range 100 {
		x, y := a.draw(), b.draw()
		if !slices.Equal(x.SKUs, y.SKUs) || x.Token != y.Token || x.After != y.After {
			t.Fatalf("same seed, different orders: %+v, %+v", x, y)
		}
	}
}

func TestMixValidate(t *testing.T) {
	for _, c := range []struct {
		mix  Mix
		want string
	}{
		{Mix{SKUs: 0, ZipfS: 1.1, MaxItems: 1}, "--skus"},
		{Mix{SKUs: 10, ZipfS: 1, MaxItems: 1}, "--zipf-s"},
		{Mix{SKUs: 10, ZipfS: 1.1, MaxItems: 11}, "--max-items"},
		{Mix{SKUs: 10, ZipfS: 1.1, MaxItems: 1, Declined: -0.1}, "--declined must be between"},
		{Mix{SKUs: 10, ZipfS: 1.1, MaxItems: 1, Ship: 1.5}, "--ship must be between"},
		{Mix{SKUs: 10, ZipfS: 1.1, MaxItems: 1, Declined: 0.6, TimedOut: 0.5}, "--declined plus --timed-out"},
		{Mix{SKUs: 10, ZipfS: 1.1, MaxItems: 1, Cancel: 0.6, Ship: 0.5}, "--cancel plus --ship"},
	} {
		err := c.mix.validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error naming %s", c.mix, err, c.want)
		}
	}
	if err := DefaultMix().validate(); err != nil {
		t.Errorf("the default mix: %v", err)
	}
}

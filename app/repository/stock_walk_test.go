package repository_test

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/orderflow/orderflow/app/domain/inventory"
)

// stockWalk is a random walk over a stock's life for the stock tests:
// restocks, reservations (with fails, one in eight of them fails instead:
// Stock.Fail), and commits or releases of the oldest open hold. held lists
// the open holds, oldest first.
type stockWalk struct {
	rng   *rand.Rand
	sku   string
	fails bool
	held  []string
}

// step is the change of step number step, at now.
func (w *stockWalk) step(step int, now time.Time) func(*inventory.Stock) error {
	return func(st *inventory.Stock) error {
		reserveBelow := 6
		if w.fails {
			reserveBelow = 5
		}
		switch k := w.rng.IntN(10); {
		case st.Available() < 5 || k == 0:
			return st.SetOnHand(st.OnHand()+10, now)
		case k < reserveBelow || len(w.held) == 0:
			id := fmt.Sprintf("o-%d", step)
			if w.fails && w.rng.IntN(8) == 0 {
				st.Fail(id, 1, []string{w.sku}, now)
				return nil
			}
			w.held = append(w.held, id)
			return st.Reserve(id, 1+w.rng.Int64N(3), now)
		case k < 8:
			st.Commit(w.held[0], now)
		default:
			st.Release(w.held[0], now)
		}
		w.held = w.held[1:]
		return nil
	}
}

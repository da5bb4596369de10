package httpapi

import (
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/app/query"
	"github.com/orderflow/orderflow/ports"
)

// The poison queue's admin endpoints: list, show, requeue and delete parked
// messages, through the admin use cases (app.Admin).

// poisonedView is a parked message as the API shows it.
type poisonedView struct {
	ID            string            `json:"id"`
	MessageID     string            `json:"message_id"`
	Topic         string            `json:"topic"`
	Handler       string            `json:"handler"`
	Reason        string            `json:"reason"`
	Payload       []byte            `json:"payload"` // base64
	Metadata      map[string]string `json:"metadata"`
	FirstFailedAt time.Time         `json:"first_failed_at"`
	PoisonedAt    time.Time         `json:"poisoned_at"`
}

// adminPageJSON is a page of an admin listing (query.Page) as the API shows it.
type adminPageJSON[V any] struct {
	Items     []V    `json:"items"`
	NextAfter string `json:"next_after,omitempty"`
}

func adminPageOf[T, V any](p query.Page[T], view func(T) V) adminPageJSON[V] {
	out := adminPageJSON[V]{Items: make([]V, len(p.Items)), NextAfter: p.NextAfter}
	for i, item := range p.Items {
		out.Items[i] = view(item)
	}
	return out
}

func viewPoisoned(m ports.PoisonedMessage) poisonedView {
	md := m.Metadata
	if md == nil {
		md = map[string]string{}
	}
	return poisonedView{ID: m.ID, MessageID: m.MessageID, Topic: m.Topic, Handler: m.Handler, Reason: m.Reason,
		Payload: m.Payload, Metadata: md, FirstFailedAt: m.FirstFailedAt, PoisonedAt: m.PoisonedAt}
}

var errNoPoisonQueue = apperr.New(apperr.Unavailable, "the poison queue is not configured")

func (s *server) listPoison(w http.ResponseWriter, r *http.Request) error {
	if s.admin.ListPoisoned == nil {
		return errNoPoisonQueue
	}
	after, limit, err := pageQuery(r, query.MaxPoisonPage)
	if err != nil {
		return err
	}
	list, err := s.admin.ListPoisoned.Handle(r.Context(), query.ListPoisoned{After: after, Limit: limit})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, adminPageOf(list, viewPoisoned))
}

func (s *server) getPoison(w http.ResponseWriter, r *http.Request) error {
	if s.admin.GetPoisoned == nil {
		return errNoPoisonQueue
	}
	m, err := s.admin.GetPoisoned.Handle(r.Context(), query.GetPoisoned{ID: mux.Vars(r)["id"]})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, viewPoisoned(m))
}

func (s *server) requeuePoison(w http.ResponseWriter, r *http.Request) error {
	if s.admin.RequeuePoisoned == nil {
		return errNoPoisonQueue
	}
	m, err := s.admin.RequeuePoisoned.Handle(r.Context(), command.RequeuePoisoned{ID: mux.Vars(r)["id"]})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, viewPoisoned(m))
}

func (s *server) deletePoison(w http.ResponseWriter, r *http.Request) error {
	if s.admin.PurgePoisoned == nil {
		return errNoPoisonQueue
	}
	if _, err := s.admin.PurgePoisoned.Handle(r.Context(), command.PurgePoisoned{ID: mux.Vars(r)["id"]}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// pageQuery reads the after and limit of an admin listing (limit capped at
// most), each at most once, like the other single-valued parameters named
// in also.
func pageQuery(r *http.Request, most int64, also ...string) (after string, limit int, err error) {
	var fields []apperr.FieldError
	singleValued(r.URL.Query(), &fields, append([]string{"after", "limit"}, also...)...)
	n := queryInt(r.URL.Query(), "limit", 1, &fields)
	if err := apperr.Validation("invalid query", fields); err != nil {
		return "", 0, err
	}
	return r.URL.Query().Get("after"), int(min(n, most)), nil
}

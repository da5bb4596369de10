package httpapi

import (
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/ports"
)

// The poison queue's admin endpoints: list, show, requeue and delete parked
// messages. Requeue is Config.PoisonRequeue (the router's, which sends the
// message back to the topic it came from).

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

type poisonPage struct {
	Items     []poisonedView `json:"items"`
	NextAfter string         `json:"next_after,omitempty"`
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
	if s.poison == nil {
		return errNoPoisonQueue
	}
	var fields []apperr.FieldError
	limit := queryInt(r.URL.Query(), "limit", 1, &fields)
	if err := apperr.Validation("invalid query", fields); err != nil {
		return err
	}
	if limit == 0 {
		limit = 50
	}
	list, err := s.poison.List(r.Context(), r.URL.Query().Get("after"), int(min(limit, 500)))
	if err != nil {
		return err
	}
	page := poisonPage{Items: make([]poisonedView, len(list))}
	for i, m := range list {
		page.Items[i] = viewPoisoned(m)
	}
	if int64(len(list)) == min(limit, 500) {
		page.NextAfter = list[len(list)-1].ID
	}
	return writeJSON(w, http.StatusOK, page)
}

func (s *server) getPoison(w http.ResponseWriter, r *http.Request) error {
	if s.poison == nil {
		return errNoPoisonQueue
	}
	m, err := s.poison.Get(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, viewPoisoned(m))
}

func (s *server) requeuePoison(w http.ResponseWriter, r *http.Request) error {
	if s.poison == nil || s.poisonRequeue == nil {
		return errNoPoisonQueue
	}
	m, err := s.poisonRequeue(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, viewPoisoned(m))
}

func (s *server) deletePoison(w http.ResponseWriter, r *http.Request) error {
	if s.poison == nil {
		return errNoPoisonQueue
	}
	if err := s.poison.Delete(r.Context(), mux.Vars(r)["id"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

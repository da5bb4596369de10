package query

// Page is one page of an operator's listing (the poison queue, the
// checkouts in a state). NextAfter, when not empty, is the After of the next
// page; a full page sets it even when nothing follows, so the last page may
// be empty.
type Page[T any] struct {
	Items     []T
	NextAfter string
}

// pageSize is the page size a listing asked for: def when 0, capped at most.
func pageSize(limit, def, most int) int {
	if limit == 0 {
		limit = def
	}
	return min(limit, most)
}

// nextAfter is the After of the page after items, a page of limit asked
// for: the key of its last item when it is full (even when nothing
// follows), "" when it is the last.
func nextAfter[T any](items []T, limit int, key func(T) string) string {
	if len(items) == 0 || len(items) < limit {
		return ""
	}
	return key(items[len(items)-1])
}

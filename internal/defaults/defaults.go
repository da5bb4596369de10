// Package defaults fills the zero fields of a configuration: every XConfig's
// setDefaults is a list of defaults.Set calls, one a field.
package defaults

// Set stores v in *p when *p is the zero value of its type.
func Set[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}

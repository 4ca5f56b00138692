package ui

// generation numbers the commands a pane starts (connection attempts,
// loads, decodes, runs): each result or timer carries the generation it
// was started for, and starting a newer command makes the older ones
// stale, so their results are dropped.
type generation int

// next starts a new generation, making every earlier one stale, and
// returns it.
func (g *generation) next() generation {
	*g++
	return *g
}

// current reports whether a result of generation o is still wanted.
func (g generation) current(o generation) bool { return g == o }

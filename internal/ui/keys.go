package ui

import "charm.land/bubbles/v2/key"

// globalKeys are handled by the root. The help and the hint bar are
// generated from these bindings and the focused pane's, so they cannot
// drift from what the keys do.
type globalKeys struct {
	Quit, Help, NextPane, PrevPane, Refresh, Zoom, Copy, Mouse, Findings key.Binding
	Focus                                                                [5]key.Binding
}

func newGlobalKeys() globalKeys {
	k := globalKeys{
		Quit:     key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Help:     key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		NextPane: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next pane")),
		PrevPane: key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous pane")),
		Refresh:  key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "refresh")),
		Zoom:     key.NewBinding(key.WithKeys("z"), key.WithHelp("z", "zoom pane")),
		Copy:     key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "copy selection")),
		Mouse:    key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "toggle mouse")),
		Findings: key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "findings")),
	}
	for i := range k.Focus {
		n := string(rune('1' + i))
		k.Focus[i] = key.NewBinding(key.WithKeys(n), key.WithHelp(n, "focus pane "+n))
	}
	return k
}

func (k globalKeys) list() []key.Binding {
	return []key.Binding{k.NextPane, k.PrevPane, k.Refresh, k.Zoom, k.Copy, k.Findings, k.Mouse, k.Help, k.Quit}
}

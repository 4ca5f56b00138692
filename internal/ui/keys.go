package ui

import "charm.land/bubbles/v2/key"

// globalKeys are handled by the root. The help and the hint bar are
// generated from these bindings and the focused pane's, so they cannot
// drift from what the keys do (TestKeysHonest drives every one). There is
// no global refresh: a pane that can reload declares its own r.
type globalKeys struct {
	Quit, Interrupt, Help, NextPane, PrevPane, Zoom, Copy, Mouse, Findings, Report key.Binding
	Focus                                                                          [5]key.Binding
	// Overlay keys work while the help or the findings list is open.
	Close, ScrollUp, ScrollDown key.Binding
}

func newGlobalKeys() globalKeys {
	k := globalKeys{
		Quit:       key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Interrupt:  key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit, even in a text field")),
		Help:       key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		NextPane:   key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next pane")),
		PrevPane:   key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous pane")),
		Zoom:       key.NewBinding(key.WithKeys("z"), key.WithHelp("z", "zoom pane")),
		Copy:       key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "copy selection")),
		Mouse:      key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "toggle mouse")),
		Findings:   key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "findings")),
		Report:     key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "write a Markdown report (authtui-report-….md)")),
		Close:      key.NewBinding(key.WithKeys("esc", "q"), key.WithHelp("esc", "close")),
		ScrollUp:   key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("↑/k", "scroll up")),
		ScrollDown: key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("↓/j", "scroll down")),
	}
	for i := range k.Focus {
		n := string(rune('1' + i))
		k.Focus[i] = key.NewBinding(key.WithKeys(n), key.WithHelp(n, "focus pane "+n))
	}
	return k
}

func (k globalKeys) list() []key.Binding {
	return []key.Binding{k.NextPane, k.PrevPane, k.Zoom, k.Copy, k.Findings, k.Report, k.Mouse, k.Help, k.Quit}
}

// overlay are the keys of the help and findings overlays.
func (k globalKeys) overlay() []key.Binding {
	return []key.Binding{k.ScrollUp, k.ScrollDown, k.Close, k.Quit}
}

package ui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/authtui/authtui/internal/probe/finding"
)

// Pane is one of the console's five panes. Panes are pointers and update
// in place; every I/O they need is returned as a tea.Cmd.
type Pane interface {
	// Title is the pane's name in its border and the help.
	Title() string
	Init() tea.Cmd
	// Update receives every broadcast message, and key, paste and mouse
	// wheel messages when focused.
	Update(msg tea.Msg) tea.Cmd
	// View renders the full pane content (without border) in exactly
	// width × height cells or fewer.
	View(width, height int) string
	// Summary renders the compact form shown while another pane is in the
	// main area; height is small (2–6 lines).
	Summary(width, height int) string
	// Keys are the pane's own bindings, for the hint bar and the help;
	// the same bindings decide what its Update does.
	Keys() []key.Binding
	// Capturing is true while a text field has focus: then every key goes
	// to the pane, and esc gives the keys back.
	Capturing() bool
	// Findings are the pane's current findings, for the header summary.
	Findings() finding.List
	// Selection is the value `y` copies (OSC 52); "" when none.
	Selection() string
	SetFocused(bool)
}

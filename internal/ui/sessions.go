package ui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/authtui/authtui/internal/probe/finding"
)

// sessionsPane is a placeholder until the pane is built.
type sessionsPane struct {
	cfg     *Config
	st      Styles
	focused bool
}

func newSessionsPane(cfg *Config, st Styles) *sessionsPane { return &sessionsPane{cfg: cfg, st: st} }

func (p *sessionsPane) Title() string           { return "Sessions" }
func (p *sessionsPane) Init() tea.Cmd           { return nil }
func (p *sessionsPane) Update(tea.Msg) tea.Cmd  { return nil }
func (p *sessionsPane) View(w, h int) string    { return block(p.st.Dim.Render("coming soon"), w, h) }
func (p *sessionsPane) Summary(w, h int) string { return block(p.st.Dim.Render("coming soon"), w, h) }
func (p *sessionsPane) Keys() []key.Binding     { return nil }
func (p *sessionsPane) Capturing() bool         { return false }
func (p *sessionsPane) Findings() finding.List  { return nil }
func (p *sessionsPane) Selection() string       { return "" }
func (p *sessionsPane) SetFocused(f bool)       { p.focused = f }

package ui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/authtui/authtui/internal/probe/finding"
)

// loginPane is a placeholder until the pane is built.
type loginPane struct {
	cfg     *Config
	st      Styles
	focused bool
}

func newLoginPane(cfg *Config, st Styles) *loginPane { return &loginPane{cfg: cfg, st: st} }

func (p *loginPane) Title() string           { return "Login flow" }
func (p *loginPane) Init() tea.Cmd           { return nil }
func (p *loginPane) Update(tea.Msg) tea.Cmd  { return nil }
func (p *loginPane) View(w, h int) string    { return block(p.st.Dim.Render("coming soon"), w, h) }
func (p *loginPane) Summary(w, h int) string { return block(p.st.Dim.Render("coming soon"), w, h) }
func (p *loginPane) Keys() []key.Binding     { return nil }
func (p *loginPane) Capturing() bool         { return false }
func (p *loginPane) Findings() finding.List  { return nil }
func (p *loginPane) Selection() string       { return "" }
func (p *loginPane) SetFocused(f bool)       { p.focused = f }

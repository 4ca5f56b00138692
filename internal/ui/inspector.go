package ui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/authtui/authtui/internal/probe/finding"
)

// inspectorPane is a placeholder until the pane is built.
type inspectorPane struct {
	cfg     *Config
	st      Styles
	focused bool
}

func newInspectorPane(cfg *Config, st Styles) *inspectorPane { return &inspectorPane{cfg: cfg, st: st} }

func (p *inspectorPane) Title() string           { return "Cookie inspector" }
func (p *inspectorPane) Init() tea.Cmd           { return nil }
func (p *inspectorPane) Update(tea.Msg) tea.Cmd  { return nil }
func (p *inspectorPane) View(w, h int) string    { return block(p.st.Dim.Render("coming soon"), w, h) }
func (p *inspectorPane) Summary(w, h int) string { return block(p.st.Dim.Render("coming soon"), w, h) }
func (p *inspectorPane) Keys() []key.Binding     { return nil }
func (p *inspectorPane) Capturing() bool         { return false }
func (p *inspectorPane) Findings() finding.List  { return nil }
func (p *inspectorPane) Selection() string       { return "" }
func (p *inspectorPane) SetFocused(f bool)       { p.focused = f }

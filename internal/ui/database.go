package ui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/authtui/authtui/internal/probe/finding"
)

// databasePane is a placeholder until the pane is built.
type databasePane struct {
	cfg     *Config
	st      Styles
	focused bool
}

func newDatabasePane(cfg *Config, st Styles) *databasePane { return &databasePane{cfg: cfg, st: st} }

func (p *databasePane) Title() string           { return "Database" }
func (p *databasePane) Init() tea.Cmd           { return nil }
func (p *databasePane) Update(tea.Msg) tea.Cmd  { return nil }
func (p *databasePane) View(w, h int) string    { return block(p.st.Dim.Render("coming soon"), w, h) }
func (p *databasePane) Summary(w, h int) string { return block(p.st.Dim.Render("coming soon"), w, h) }
func (p *databasePane) Keys() []key.Binding     { return nil }
func (p *databasePane) Capturing() bool         { return false }
func (p *databasePane) Findings() finding.List  { return nil }
func (p *databasePane) Selection() string       { return "" }
func (p *databasePane) SetFocused(f bool)       { p.focused = f }

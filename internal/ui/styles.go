package ui

import (
	"charm.land/lipgloss/v2"

	"github.com/authtui/authtui/internal/probe/finding"
)

// Styles is the console's small palette. With NO_COLOR the program runs
// with an ASCII colour profile, which drops the colours and keeps bold and
// reverse, so every state must read without colour too (marks like ✓ ✗ !).
type Styles struct {
	Title, Dim, Bold, OK, Warn, Err, Info, Accent, Selected, New lipgloss.Style
	Border, BorderFocused                                        lipgloss.Style
}

func newStyles() Styles {
	c := lipgloss.Color
	return Styles{
		Title:         lipgloss.NewStyle().Bold(true),
		Dim:           lipgloss.NewStyle().Foreground(c("#808080")),
		Bold:          lipgloss.NewStyle().Bold(true),
		OK:            lipgloss.NewStyle().Foreground(c("#5fd787")),
		Warn:          lipgloss.NewStyle().Foreground(c("#ffd75f")),
		Err:           lipgloss.NewStyle().Foreground(c("#ff5f5f")).Bold(true),
		Info:          lipgloss.NewStyle().Foreground(c("#5fafff")),
		Accent:        lipgloss.NewStyle().Foreground(c("#af87ff")).Bold(true),
		Selected:      lipgloss.NewStyle().Reverse(true),
		New:           lipgloss.NewStyle().Foreground(c("#5fd787")).Bold(true),
		Border:        lipgloss.NewStyle().Foreground(c("#585858")),
		BorderFocused: lipgloss.NewStyle().Foreground(c("#af87ff")).Bold(true),
	}
}

// Severity renders a finding's severity as a fixed-width mark.
func (s Styles) Severity(sev finding.Severity) string {
	switch sev {
	case finding.Error:
		return s.Err.Render("✗ ERR ")
	case finding.Warn:
		return s.Warn.Render("! WARN")
	default:
		return s.Info.Render("· INFO")
	}
}

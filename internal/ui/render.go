package ui

import (
	"charm.land/lipgloss/v2"

	"github.com/authtui/authtui/internal/report"
)

// The panes draw probe reports through internal/report, the renderer the
// CLI prints with: report builds the lines once, report.Layout lays them
// out, and the panes only choose the width and the styles.

// tone is the console's style for a report tone.
func (s Styles) tone(t report.Tone) lipgloss.Style {
	switch t {
	case report.Dim:
		return s.Dim
	case report.Good:
		return s.OK
	case report.Warn:
		return s.Warn
	case report.Bad:
		return s.Err
	case report.Strong:
		return s.Bold
	}
	return lipgloss.NewStyle()
}

// paint is report.Painter with the console's styles.
func (s Styles) paint(text string, t report.Tone) string {
	if t == report.Plain || text == "" {
		return text
	}
	return s.tone(t).Render(text)
}

// layout lays blocks out in w cells with the console's styles, each line
// clipped to w.
func (s Styles) layout(bs []report.Block, w int) []string {
	lines := report.Layout(bs, w, s.paint)
	for i, l := range lines {
		lines[i] = fit(l, w)
	}
	return lines
}

// span renders one span, clipped to n cells.
func (s Styles) span(sp report.Span, n int) string {
	return s.paint(report.Clip(sp.Text, n), sp.Tone)
}

// line renders one line (label and spans) in w cells.
func (s Styles) line(l report.Line, w int) string {
	return s.layout([]report.Block{{Lines: []report.Line{l}}}, w)[0]
}

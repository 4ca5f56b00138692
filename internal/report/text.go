package report

import (
	"io"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// TextOptions says how Text lays blocks out.
type TextOptions struct {
	Color bool // SGR colours and bold; off for NO_COLOR and pipes
	Width int  // wrap prose to this many cells; 0 means 80
}

// sgr is the code each tone turns into with colour on.
var sgr = map[Tone]string{
	Dim: "\x1b[2m", Good: "\x1b[32m", Warn: "\x1b[33m", Bad: "\x1b[31m", Strong: "\x1b[1m",
}

// Paint is s in tone t, with colour or without.
func Paint(s string, t Tone, color bool) string {
	if !color || sgr[t] == "" || s == "" {
		return s
	}
	return sgr[t] + s + "\x1b[0m"
}

// Text writes blocks as terminal text: a bold title, labelled lines in a
// column, tables aligned, a blank line after each block.
func Text(w io.Writer, bs []Block, o TextOptions) error {
	paint := func(s string, t Tone) string { return Paint(s, t, o.Color) }
	var b strings.Builder
	for _, bl := range bs {
		writeTextBlock(&b, bl, o.Width, paint, false)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Painter styles a piece of text in a tone: SGR codes for Text, lipgloss
// styles for the console.
type Painter func(s string, t Tone) string

// Layout lays blocks out as Text does, in width cells, with paint for the
// tones, and returns the lines: the console draws the same layout inside
// its boxes. Lines that are not prose may be wider than width; the caller
// clips them to its box.
func Layout(bs []Block, width int, paint Painter) []string {
	var b strings.Builder
	for _, bl := range bs {
		writeTextBlock(&b, bl, width, paint, true)
	}
	return strings.Split(strings.TrimSuffix(b.String(), "\n\n"), "\n")
}

// TextString is Text into a string.
func TextString(bs []Block, o TextOptions) string {
	var b strings.Builder
	Text(&b, bs, o)
	return b.String()
}

// brk says whether a word longer than a line is broken (the console,
// which would clip it) or left whole (a terminal or a file, where a path
// or URL must stay one piece to be copied).
func writeTextBlock(b *strings.Builder, bl Block, width int, paint Painter, brk bool) {
	if width <= 0 {
		width = 80
	}
	indent := ""
	if bl.Title != "" {
		t := Strong
		if bl.Tone != Plain {
			t = bl.Tone
		}
		b.WriteString(paint(bl.Title, t))
		if bl.Meta != "" {
			b.WriteString("  " + paint(bl.Meta, Dim))
		}
		b.WriteByte('\n')
		indent = "  "
	}
	writeTextLines(b, bl.Lines, indent, width, paint, brk)
	if bl.Table != nil {
		writeTextTable(b, *bl.Table, indent, paint)
	}
	writeTextLines(b, bl.After, indent, width, paint, brk)
	b.WriteByte('\n')
}

// LabelWidth is the label column of a set of lines: the longest label,
// at most 20 cells, plus one space.
func LabelWidth(ls []Line) int {
	n := 0
	for _, l := range ls {
		n = max(n, ansi.StringWidth(l.Label))
	}
	if n == 0 {
		return 0
	}
	return min(n, 20) + 1
}

func writeTextLines(b *strings.Builder, ls []Line, indent string, width int, paint Painter, brk bool) {
	// A line without label or indent starts a section (a heading, a
	// headline); each section has its own label column, so evidence rows
	// under a heading align among themselves only.
	for start := 0; start < len(ls); {
		end := start + 1
		for end < len(ls) && (ls[end].Label != "" || ls[end].Indent > 0) {
			end++
		}
		writeTextSection(b, ls[start:end], indent, width, paint, brk)
		start = end
	}
}

func writeTextSection(b *strings.Builder, ls []Line, indent string, width int, paint Painter, brk bool) {
	lw := LabelWidth(ls)
	for _, l := range ls {
		lead := indent + strings.Repeat("  ", l.Indent)
		if lw > 0 && (l.Label != "" || l.Indent > 0) {
			label := l.Label
			if ansi.StringWidth(label) >= lw {
				label = ansi.Truncate(label, lw-1, "…")
			}
			pad := strings.Repeat(" ", lw-ansi.StringWidth(label))
			if l.Indent > 0 && l.Label == "" {
				// An indented line without label hangs under the text
				// column: the body of the labelled line above.
				lead = indent + strings.Repeat(" ", lw) + strings.Repeat("  ", l.Indent-1)
				label, pad = "", ""
			}
			lead += paint(label, l.LabelTone) + pad
		}
		hang := strings.Repeat(" ", ansi.StringWidth(lead))
		if l.Bullet {
			lead += "- "
			hang += "  "
		}
		if l.Prose {
			for i, part := range wrap(l.Text(), width-ansi.StringWidth(hang), brk) {
				if i > 0 {
					lead = hang
				}
				b.WriteString(strings.TrimRight(lead+paint(part, l.Tone()), " ") + "\n")
			}
			continue
		}
		var text strings.Builder
		for _, s := range l.Spans {
			text.WriteString(paint(s.Text, s.Tone))
		}
		b.WriteString(strings.TrimRight(lead+text.String(), " ") + "\n")
	}
}

// writeTextTable aligns cells on their visible width (tabwriter would
// count the bytes of colour codes).
func writeTextTable(b *strings.Builder, t Table, indent string, paint Painter) {
	cols := len(t.Head)
	for _, r := range t.Rows {
		cols = max(cols, len(r))
	}
	widths := make([]int, cols)
	for i, h := range t.Head {
		widths[i] = ansi.StringWidth(h)
	}
	for _, r := range t.Rows {
		for i, c := range r {
			widths[i] = max(widths[i], ansi.StringWidth(c.Text))
		}
	}
	row := func(cells []Span) {
		var line strings.Builder
		line.WriteString(indent)
		for i, c := range cells {
			line.WriteString(paint(c.Text, c.Tone))
			if i < len(cells)-1 {
				line.WriteString(strings.Repeat(" ", widths[i]-ansi.StringWidth(c.Text)+2))
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
	if len(t.Head) > 0 {
		head := make([]Span, len(t.Head))
		for i, h := range t.Head {
			head[i] = S(h, Strong)
		}
		row(head)
	}
	for _, r := range t.Rows {
		row(r)
	}
}

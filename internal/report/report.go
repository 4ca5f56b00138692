// Package report turns each probe result into labelled, toned lines once.
// cmd/authtui prints them as plain or coloured text (Text) or as Markdown
// (Markdown); the console's panes lay the same lines out in their boxes
// (internal/ui). JSON stays the probe structs. So a fact is worded in one
// place, and every output shows it the same way.
//
// Every string a builder puts into a Span or Line has already been through
// textsafe (credentials cut, control characters escaped, URLs without
// userinfo and query): renderers only lay text out, they never see raw
// input.
package report

import "strings"

// Tone says how a piece of text should look; each output maps it (SGR
// colours, lipgloss styles, Markdown emphasis) and every tone must read
// without colour too, which is why marks like ✓ ✗ ! travel in the text.
type Tone uint8

const (
	Plain  Tone = iota
	Dim         // secondary: where a value came from, what was skipped
	Good        // passed, valid, agrees
	Warn        // worth a look, not a failure
	Bad         // failed, invalid, the cause
	Strong      // headings and emphasis
)

// Span is a run of text in one tone.
type Span struct {
	Text string
	Tone Tone
}

// Line is one fact: an optional label (a column in text, bold in
// Markdown) and its text in spans.
type Line struct {
	Label     string
	LabelTone Tone
	Spans     []Span
	Indent    int  // nesting level under the previous line
	Prose     bool // long text: wrap it to the width instead of cutting it
	Bullet    bool // an item of a list: "- " in text, a list item in Markdown
}

// Text is the line's text without label or tones.
func (l Line) Text() string {
	var b strings.Builder
	for _, s := range l.Spans {
		b.WriteString(s.Text)
	}
	return b.String()
}

// Tone is the line's strongest tone (Bad over Warn over Good), for
// outputs that colour a whole line.
func (l Line) Tone() Tone {
	t := Plain
	for _, s := range l.Spans {
		if rank(s.Tone) > rank(t) {
			t = s.Tone
		}
	}
	return t
}

func rank(t Tone) int {
	switch t {
	case Bad:
		return 4
	case Warn:
		return 3
	case Good:
		return 2
	case Dim:
		return 1
	}
	return 0
}

// Table is rows of cells under a head, for lists (sources, sessions).
type Table struct {
	Head []string
	Rows [][]Span // one span per cell; a row may be shorter than Head
}

// Block is one report section: a title, then lines, then an optional
// table, then lines after it.
type Block struct {
	Title string
	Tone  Tone   // of the title
	Meta  string // dim text after the title: kind, size, where from
	Lines []Line
	Table *Table
	After []Line
}

// L builds a labelled line of spans.
func L(label string, spans ...Span) Line { return Line{Label: label, Spans: spans} }

// S builds a span.
func S(text string, tone Tone) Span { return Span{Text: text, Tone: tone} }

// P builds a plain span.
func P(text string) Span { return Span{Text: text} }

// Prose builds a line of running text to wrap.
func Prose(text string, tone Tone) Line {
	return Line{Spans: []Span{{Text: text, Tone: tone}}, Prose: true}
}

// Facts is every piece of text a set of blocks carries, in order: what a
// render must show, whatever its layout. Tests compare outputs with it.
func Facts(bs []Block) []string {
	var out []string
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	lines := func(ls []Line) {
		for _, l := range ls {
			add(l.Label)
			for _, s := range l.Spans {
				add(s.Text)
			}
		}
	}
	for _, b := range bs {
		add(b.Title)
		add(b.Meta)
		lines(b.Lines)
		if b.Table != nil {
			for _, h := range b.Table.Head {
				add(h)
			}
			for _, r := range b.Table.Rows {
				for _, c := range r {
					add(c.Text)
				}
			}
		}
		lines(b.After)
	}
	return out
}

package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/textsafe"
)

// SeverityMark is a finding severity as a fixed-width label and its tone.
func SeverityMark(s finding.Severity) (string, Tone) {
	switch s {
	case finding.Error:
		return "✗ ERROR", Bad
	case finding.Warn:
		return "! WARN", Warn
	}
	return "· INFO", Dim
}

// Counts says "2 errors, 1 warning, 0 info" for a list of findings.
func Counts(fs finding.List) string {
	e, w, i := fs.Count()
	return fmt.Sprintf("%s, %s, %d info", plural(e, "error"), plural(w, "warning"), i)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// Finding is one finding as lines: its severity and ID, the message below,
// and where it was seen when that was more than one step.
func Finding(f finding.Finding) []Line {
	mark, tone := SeverityMark(f.Severity)
	head := Line{Label: mark, LabelTone: tone, Spans: []Span{S(textsafe.Clean(string(f.ID)), Strong)}}
	if f.Source != "" {
		head.Spans = append(head.Spans, S("  "+Safe(f.Source, 80), Dim))
	}
	out := []Line{head, {Indent: 1, Prose: true, Spans: []Span{P(Safe(f.Message, 2000))}}}
	if len(f.Evidence) > 1 {
		// One cause seen several times (cookie and bearer): say where.
		var at []string
		for _, e := range f.Evidence {
			if !slices.Contains(at, e.Step) { // each step once
				at = append(at, e.Step)
			}
		}
		if len(at) > 1 {
			out = append(out, Line{Indent: 1, Prose: true, Spans: []Span{S("seen at: "+Safe(strings.Join(at, ", "), 300), Dim)}})
		}
	}
	return out
}

// Findings is a list of findings, errors first, as one block.
func Findings(fs finding.List) Block {
	b := Block{Title: "Findings"}
	if len(fs) == 0 {
		b.Lines = []Line{L("", S("No findings.", Good))}
		return b
	}
	b.Meta = Counts(fs)
	for _, f := range fs.Sorted() {
		b.Lines = append(b.Lines, Finding(f)...)
	}
	return b
}

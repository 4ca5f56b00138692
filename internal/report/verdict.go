package report

import (
	"strings"

	"github.com/authtui/authtui/internal/probe/check"
	"github.com/authtui/authtui/internal/probe/textsafe"
)

// Headline splits a verdict's message into a short headline (its first
// clause, up to a colon or the end of the first sentence) and the rest,
// so the console and the report lead with a line that fits, the reasoning
// below it.
func Headline(msg string) (head, rest string) {
	msg = strings.TrimSpace(msg)
	cut := -1
	for _, sep := range []string{": ", ". "} {
		// A short lead ("In preview: ") is part of the headline.
		if i := strings.Index(msg[min(12, len(msg)):], sep); i >= 0 && (cut < 0 || i+12 < cut) {
			cut = i + 12
		}
	}
	if cut < 0 {
		return strings.TrimSuffix(msg, "."), ""
	}
	head, rest = msg[:cut], strings.TrimSpace(msg[cut+2:])
	return head, rest
}

// verdictTone is the tone of a verdict: good only when the run was.
func verdictTone(v check.Verdict, healthy bool) Tone {
	switch {
	case healthy:
		return Good
	case v.Undecided:
		return Warn
	}
	return Bad
}

// VerdictHead is the verdict's one line: mark, ID and headline.
func VerdictHead(v check.Verdict, healthy bool) Line {
	tone := verdictTone(v, healthy)
	head, _ := Headline(textsafe.Clean(v.Message))
	mark := "✗ "
	switch {
	case healthy:
		mark = "✓ "
	case v.Undecided:
		mark = "? "
	}
	id := string(v.ID)
	if id == "" {
		id = map[bool]string{true: "healthy", false: "unhealthy"}[healthy]
	}
	return L("", S(mark+textsafe.Clean(id), tone), P("  "+Clip(head, 160)))
}

// Verdict is the pipeline's verdict as a block: the headline, the
// reasoning, the evidence it rests on, the causes still possible and what
// would tell them apart.
func Verdict(v check.Verdict, healthy bool) Block {
	b := Block{Title: "Diagnosis", Tone: verdictTone(v, healthy)}
	b.Lines = append(b.Lines, VerdictHead(v, healthy))
	if _, rest := Headline(textsafe.Clean(v.Message)); rest != "" {
		b.Lines = append(b.Lines, Line{Indent: 1, Prose: true, Spans: []Span{P(Safe(rest, 2000))}})
	}
	var ev []Line
	for _, e := range v.Evidence {
		if e.Seen != "" && strings.Contains(v.Message, e.Seen) {
			continue // the reasoning above says it already
		}
		if len(ev) == 8 {
			ev = append(ev, Line{Indent: 1, Spans: []Span{S("… more in --json", Dim)}})
			break
		}
		step := e.Step
		if step == "" {
			step = "seen"
		}
		ev = append(ev, Line{Label: Clip(step, 24), Indent: 1, Spans: []Span{P(Safe(e.Seen, 200))}})
	}
	if len(ev) > 0 {
		b.Lines = append(append(b.Lines, L("", S("Evidence", Strong))), ev...)
	}

	if len(v.Alternatives) > 0 {
		head := "Also possible, less likely"
		if v.Undecided {
			head = "Possible causes, most likely first"
		}
		b.Lines = append(b.Lines, L("", S(head, Strong)))
		for _, alt := range v.Alternatives {
			text := alt.Message
			if alt.ID != "" {
				text = string(alt.ID) + ": " + text
			}
			b.Lines = append(b.Lines, Line{Indent: 1, Prose: true, Bullet: true, Spans: []Span{P(Safe(text, 1000))}})
		}
	}
	if v.TellApart != "" {
		b.Lines = append(b.Lines, L("", S("To tell them apart", Strong)),
			Line{Indent: 1, Prose: true, Spans: []Span{P(Safe(v.TellApart, 1000))}})
	}
	return b
}

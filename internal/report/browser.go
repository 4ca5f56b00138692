package report

import (
	"fmt"
	"strings"

	"github.com/authtui/authtui/internal/probe/browser"
	"github.com/authtui/authtui/internal/probe/textsafe"
)

// Browser is a run in a real Chrome: per pass, per request, what Chrome
// stored, refused, sent and withheld, under its own reason names.
func Browser(res *browser.Result) Block {
	b := Block{Title: "Browser", Meta: textsafe.Clean(res.Chrome) + " · page on " + textsafe.URL(res.Origin) + " · " + Duration(res.Duration)}
	for _, p := range res.Passes {
		b.Lines = append(b.Lines, BrowserPass(p)...)
	}
	return b
}

// BrowserPassTitle names a pass.
func BrowserPassTitle(blocked bool) string {
	if blocked {
		return "third-party cookies blocked"
	}
	return "third-party cookies allowed"
}

// BrowserPass is one pass as lines: its outcome, then each request.
func BrowserPass(p browser.Pass) []Line {
	mark, tone := "✗ no session", Bad
	if p.Session {
		mark, tone = "✓ session", Good
	}
	ls := []Line{L("", S(BrowserPassTitle(p.ThirdPartyBlocked), Strong), P("  "), S(mark, tone), S("  "+Duration(p.Duration), Dim))}
	for _, e := range []string{p.Error, p.PageError} {
		if e != "" {
			ls = append(ls, Line{Indent: 1, Prose: true, Spans: []Span{S(Safe(e, 300), Warn)}})
		}
	}
	for _, q := range p.Requests {
		var parts []string
		if q.Status != 0 {
			parts = append(parts, fmt.Sprint(q.Status))
		}
		if len(q.Stored) > 0 {
			parts = append(parts, "stored "+strings.Join(q.Stored, ", "))
		}
		for _, c := range q.Refused {
			parts = append(parts, "✗ refused "+c.Name+" ("+strings.Join(c.Reasons, ", ")+")")
		}
		if len(q.Sent) > 0 {
			parts = append(parts, "sent "+strings.Join(q.Sent, ", "))
		}
		for _, c := range q.Withheld {
			parts = append(parts, "✗ withheld "+c.Name+" ("+strings.Join(c.Reasons, ", ")+")")
		}
		if q.CORSError != "" {
			parts = append(parts, "✗ CORS "+q.CORSError)
		} else if q.Failed != "" {
			parts = append(parts, "✗ "+q.Failed)
		}
		ls = append(ls, Line{Label: Clip(q.Step, 20), Indent: 1, Prose: true, Spans: []Span{P(Safe(strings.Join(parts, " · "), 600))}})
	}
	if len(p.Jar) > 0 {
		var jar []string
		for _, c := range p.Jar {
			s := c.Name + " (" + c.Domain
			if c.SameSite != "" {
				s += ", SameSite=" + c.SameSite
			}
			if c.Secure {
				s += ", Secure"
			}
			if c.Partition != "" {
				s += ", partitioned under " + c.Partition
			}
			jar = append(jar, s+")")
		}
		ls = append(ls, Line{Label: "jar", LabelTone: Dim, Indent: 1, Prose: true, Spans: []Span{S(Safe(strings.Join(jar, "; "), 600), Dim)}})
	}
	return ls
}

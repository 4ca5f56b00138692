package report

import (
	"io"
	"regexp"
	"strings"
)

var listStart = regexp.MustCompile(`^([-+]|[0-9]+[.)])( |$)`)

// Markdown writes blocks as GitHub-flavoured Markdown, to paste into an
// issue or a chat: a heading per block, a list of labelled lines, tables
// as tables. Tones become marks only where they carry meaning (Bad and
// Strong text in bold); the ✓ ✗ ! marks are in the text already.
func Markdown(w io.Writer, bs []Block, level int) error {
	var b strings.Builder
	hashes := strings.Repeat("#", max(1, min(level, 6)))
	for _, bl := range bs {
		if bl.Title != "" {
			b.WriteString(hashes + " " + mdEscape(bl.Title))
			if bl.Meta != "" {
				b.WriteString(" <sub>" + mdEscape(bl.Meta) + "</sub>")
			}
			b.WriteString("\n\n")
		}
		writeMDLines(&b, bl.Lines)
		if t := bl.Table; t != nil {
			writeMDTable(&b, *t)
		}
		writeMDLines(&b, bl.After)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeMDLines(b *strings.Builder, ls []Line) {
	if len(ls) == 0 {
		return
	}
	for _, l := range ls {
		// Under a labelled line an indented line is its body; a bullet
		// is an item of a list either way.
		b.WriteString(strings.Repeat("  ", l.Indent) + "- ")
		if l.Label != "" {
			b.WriteString("**" + mdEscape(l.Label) + "** ")
		}
		var item strings.Builder
		for _, s := range l.Spans {
			item.WriteString(mdSpan(s))
		}
		text := item.String()
		if l.Label == "" && listStart.MatchString(text) {
			// "- x" or "1. x" at the start of an item would open a
			// nested list.
			text = `\` + text
		}
		b.WriteString(text)
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
}

func mdSpan(s Span) string {
	t := mdEscape(s.Text)
	if strings.TrimSpace(t) == "" {
		return t
	}
	switch s.Tone {
	case Bad, Strong:
		// Emphasis must hug the text: "** x **" is not bold.
		lead := t[:len(t)-len(strings.TrimLeft(t, " "))]
		trail := t[len(strings.TrimRight(t, " ")):]
		return lead + "**" + strings.TrimSpace(t) + "**" + trail
	}
	return t
}

func writeMDTable(b *strings.Builder, t Table) {
	cols := len(t.Head)
	for _, r := range t.Rows {
		cols = max(cols, len(r))
	}
	if cols == 0 {
		return
	}
	cell := func(s string) string { return " " + strings.ReplaceAll(mdEscape(s), "|", `\|`) + " " }
	b.WriteString("|")
	for i := 0; i < cols; i++ {
		h := ""
		if i < len(t.Head) {
			h = t.Head[i]
		}
		b.WriteString(cell(h) + "|")
	}
	b.WriteString("\n|")
	for i := 0; i < cols; i++ {
		b.WriteString(" --- |")
	}
	b.WriteByte('\n')
	for _, r := range t.Rows {
		b.WriteString("|")
		for i := 0; i < cols; i++ {
			c := ""
			if i < len(r) {
				c = r[i].Text
			}
			b.WriteString(cell(c) + "|")
		}
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
}

// mdEscape keeps text literal in Markdown: the characters that would
// start emphasis, code, links or HTML are escaped, and a line break
// cannot end the list item (builders hand over one-line text already).
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", `*`, `\*`, `_`, `\_`, `[`, `\[`, `]`, `\]`,
	`<`, `&lt;`, `>`, `&gt;`, `#`, `\#`, "\n", " ", "\r", " ",
)

func mdEscape(s string) string { return mdEscaper.Replace(s) }

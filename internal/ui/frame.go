package ui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// fit clips or pads s to exactly w cells. Styled strings are cut with
// ansi.Truncate so escape sequences stay balanced.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if ansi.StringWidth(s) > w {
		// Truncate drops a double-width rune it would split, so the result
		// can be a cell short: pad it back to exactly w.
		s = ansi.Truncate(s, w, "…")
	}
	return s + strings.Repeat(" ", max(0, w-ansi.StringWidth(s)))
}

// block clips or pads text to exactly w × h cells.
func block(text string, w, h int) string {
	if h <= 0 || w <= 0 {
		return ""
	}
	lines := strings.Split(text, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	for i, l := range lines {
		lines[i] = fit(l, w)
	}
	return strings.Join(lines, "\n")
}

// box draws a rounded frame of exactly w × h cells with the title in the
// top border and body inside.
func box(st Styles, title, body string, w, h int, focused bool) string {
	if w < 4 || h < 2 {
		return block("", w, h)
	}
	bs := st.Border
	if focused {
		bs = st.BorderFocused
	}
	inner := w - 2
	t := ansi.Truncate(" "+title+" ", max(0, inner-2), "…")
	top := bs.Render("╭─") + st.Title.Render(t) + bs.Render(strings.Repeat("─", max(0, inner-1-ansi.StringWidth(t)))+"╮")
	var b strings.Builder
	b.WriteString(top)
	for _, line := range strings.Split(block(body, inner, h-2), "\n") {
		if h-2 <= 0 {
			break
		}
		b.WriteString("\n" + bs.Render("│") + line + bs.Render("│"))
	}
	b.WriteString("\n" + bs.Render("╰"+strings.Repeat("─", inner)+"╯"))
	return b.String()
}

// joinColumns puts blocks side by side, line by line; each must have the
// same number of lines.
func joinColumns(cols ...string) string {
	split := make([][]string, len(cols))
	n := 0
	for i, c := range cols {
		split[i] = strings.Split(c, "\n")
		n = max(n, len(split[i]))
	}
	var b strings.Builder
	for line := 0; line < n; line++ {
		if line > 0 {
			b.WriteByte('\n')
		}
		for _, c := range split {
			if line < len(c) {
				b.WriteString(c[line])
			}
		}
	}
	return b.String()
}

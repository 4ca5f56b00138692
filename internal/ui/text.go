package ui

// Text helpers shared by several panes.

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/authtui/authtui/internal/probe/textsafe"
)

// clip cleans s for the terminal and clips it to n runes. It looks at
// a bounded prefix only, so a 5 MB cookie name costs no more than a short
// one.
func clip(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if limit := 4*n + 8; len(s) > limit {
		s = s[:limit]
	}
	return textsafe.Truncate(s, n)
}

// wrap wraps plain text at spaces to w cells, breaking words longer
// than a line.
func wrap(s string, w int) []string {
	w = max(w, 10)
	var out []string
	cur := ""
	for _, word := range strings.Fields(s) {
		for ansi.StringWidth(word) > w {
			if cur != "" {
				out, cur = append(out, cur), ""
			}
			head := ansi.Truncate(word, w, "")
			out = append(out, head)
			word = word[len(head):]
		}
		switch {
		case cur == "":
			cur = word
		case ansi.StringWidth(cur)+1+ansi.StringWidth(word) > w:
			out, cur = append(out, cur), word
		default:
			cur += " " + word
		}
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}

// stepDur shows how long a step took, or nothing when it did not run.
func stepDur(d time.Duration) string {
	switch {
	case d <= 0:
		return ""
	case d < time.Millisecond:
		return "<1ms"
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	default:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
}

// fmtDur shows a latency with precision that matters at its scale.
func fmtDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < 100*time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	case d < 10*time.Second:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/authtui/authtui/internal/probe/textsafe"
)

// The one duration formatter, one relative-time formatter, one wrap and
// one truncation every output uses.

// Duration shows how long something took with the precision that matters
// at its scale: 412µs, 3.4ms, 312ms, 1.234s, 42s. Zero or less (a step
// that did not run) is "".
func Duration(d time.Duration) string {
	switch {
	case d <= 0:
		return ""
	case d < time.Microsecond:
		return "<1µs"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < 100*time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < 10*time.Second:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// Span2 shows a length of time in its two largest units: 45s, 12m, 3h05m,
// 6d23h.
func Span2(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d/time.Minute)%60)
	}
	return fmt.Sprintf("%dd%02dh", int(d/(24*time.Hour)), int(d/time.Hour)%24)
}

// Rel says when t is from now: "in 6d23h", "2h05m ago", "now"; "-" for
// no time.
func Rel(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := t.Sub(now)
	switch {
	case d > -5*time.Second && d < 5*time.Second:
		return "now"
	case d > 0:
		return "in " + Span2(d)
	}
	return Span2(d) + " ago"
}

// Time is how a wall-clock time is shown: local, to the second.
func Time(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format(time.DateTime)
}

// Clip cleans s for the terminal and cuts it to n runes, marking the cut.
// It looks at a bounded prefix only, so a 5 MB cookie name costs no more
// than a short one.
func Clip(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if limit := 4*n + 8; len(s) > limit {
		s = s[:limit]
	}
	return textsafe.Truncate(s, n)
}

// Safe is textsafe.Safe (credentials cut, control characters escaped)
// cut to n runes.
func Safe(s string, n int) string {
	if limit := 8*n + 64; len(s) > limit {
		s = s[:limit]
	}
	return textsafe.Truncate(textsafe.Redact(s), n)
}

// Wrap breaks text at spaces into lines of at most w cells, breaking a
// word longer than a line. Text may carry ANSI styles (widths are cells).
func Wrap(s string, w int) []string { return wrap(s, w, true) }

// wrap is Wrap; with brk false a word longer than a line keeps a line of
// its own instead of being broken.
func wrap(s string, w int, brk bool) []string {
	w = max(w, 10)
	var out []string
	cur := ""
	for _, word := range strings.Fields(s) {
		for brk && ansi.StringWidth(word) > w {
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

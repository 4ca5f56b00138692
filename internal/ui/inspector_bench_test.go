package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
)

// Run with:
//
//	go test ./internal/ui -run '^$' -bench InspectorHugePaste -benchmem
//
// The goals of issue 13: a frame under 2 ms with a 5 MB paste on screen,
// and idle CPU under 1 % while it stays there.

const benchPasteSize = 5 << 20

// benchManySmallPaste is a 5 MB Cookie header of many small cookies: the
// Cookie header the real server's browser sent (fixture plain), repeated.
func benchManySmallPaste(tb testing.TB) string {
	one := insFixtureCookie(tb)
	var b strings.Builder
	for b.Len() < benchPasteSize {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(one)
	}
	return b.String()
}

// benchFewHugePaste is a 5 MB Cookie header of five 1 MB cookies, each
// the fixture's name with its value repeated.
func benchFewHugePaste(tb testing.TB) string {
	name, value, _ := strings.Cut(insFixtureCookie(tb), "=")
	huge := strings.Repeat(value, (benchPasteSize/5)/len(value)+1)
	var parts []string
	for i := range 5 {
		parts = append(parts, fmt.Sprintf("%s%d=%s", name, i, huge))
	}
	return strings.Join(parts, "; ")
}

// benchPastedModel is the console at 200×60 with paste decoded in the
// inspector, which has the focus.
func benchPastedModel(b *testing.B, paste string) (*Model, func(tea.Msg) tea.Cmd) {
	m, _ := newTestModel(b, 200, 60)
	update := func(msg tea.Msg) tea.Cmd { _, c := m.Update(msg); return c }
	update(press("4"))
	insp := m.panes[3].(*inspectorPane)
	pump(b, update, update(tea.PasteMsg{Content: paste}), time.Minute, insKeep, func() bool { return !insp.decoding && !insp.lookup })
	if insp.result == nil {
		b.Fatal("the paste was not decoded")
	}
	return m, update
}

func BenchmarkInspectorHugePaste(b *testing.B) {
	for _, tc := range []struct {
		name  string
		paste func(testing.TB) string
	}{
		// For reference: the one real cookie, so the frames with 5 MB
		// pastes compare with the smallest paste there is.
		{"one-cookie", insFixtureCookie},
		{"many-small", benchManySmallPaste},
		{"few-huge", benchFewHugePaste},
	} {
		b.Run(tc.name, func(b *testing.B) {
			paste := tc.paste(b)
			m, update := benchPastedModel(b, paste)
			b.Run("frame", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					_ = m.View()
				}
			})
			b.Run("frame-summary", func(b *testing.B) {
				update(press("1"))
				defer update(press("4"))
				b.ReportAllocs()
				for b.Loop() {
					_ = m.View()
				}
			})
			// An idle tick: the secrets pane's poll finds the env files
			// unchanged, and Bubble Tea renders after every message. What
			// ticks while the console sits idle: the env-file poll, the
			// database refresh and the sessions refresh (each a timer and
			// its result: two messages), and the --tail file poll. So at
			// most this many renders a second, and idle-cpu-% is the share
			// of one core they take.
			sp := m.panes[0].(*secretsPane)
			perSecond := 1/m.cfg.SecretsPoll.Seconds() + 2/m.cfg.DBInterval.Seconds() + 2/m.cfg.SessionsEvery.Seconds() + 1/tailPoll.Seconds()
			b.Run("idle-tick", func(b *testing.B) {
				msg := secretsPollMsg{sig: fileSig(sp.envFiles())}
				b.ReportAllocs()
				for b.Loop() {
					update(msg)
					_ = m.View()
				}
				perTick := b.Elapsed().Seconds() / float64(b.N)
				b.ReportMetric(100*perTick*perSecond, "idle-cpu-%")
			})
		})
	}
}

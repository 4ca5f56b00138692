package ui

import (
	"fmt"
	"testing"
	"time"

	"github.com/authtui/authtui/internal/probe/database"
)

// BenchmarkFullScreenView renders the whole console at 200×60 with 1,000
// sessions loaded and 500 tailed log lines, focused on each pane in turn:
// the cost of one frame.
//
//	go test ./internal/ui -run '^$' -bench FullScreenView -benchmem
func BenchmarkFullScreenView(b *testing.B) {
	m, _ := newTestModel(b, 200, 60)
	sess := m.panes[2].(*sessionsPane)
	lp := m.panes[4].(*loginPane)

	now := time.Now()
	page := &database.SessionsPage{}
	for i := range 1000 {
		page.Sessions = append(page.Sessions, database.Session{
			ID: fmt.Sprintf("sess%028d", i), UserID: fmt.Sprintf("user%d", i%50),
			Email: fmt.Sprintf("user%d@example.com", i%50), TokenPrefix: "Ab12Cd…",
			CreatedAt: now.Add(-time.Duration(i) * time.Minute), ExpiresAt: now.Add(7*24*time.Hour - time.Duration(i)*time.Minute),
			IPAddress: "203.0.113.7", UserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", Active: i%7 != 0,
		})
	}
	sess.gen, sess.seq = 1, 1
	sess.Update(sessionsLoadedMsg{gen: 1, seq: 1, page: page})
	if len(sess.rows) != 1000 {
		b.Fatalf("sessions pane holds %d rows", len(sess.rows))
	}
	for i := range 500 {
		lp.tail = append(lp.tail, tailLine{text: fmt.Sprintf("2026-11-27T10:00:%02d.000Z http GET /api/auth/get-session 200 6.5ms session=found #%d", i%60, i), hot: i%3 == 0})
	}

	for focus := range m.panes {
		m.Update(press(fmt.Sprint(focus + 1)))
		b.Run(fmt.Sprintf("pane%d-%s", focus+1, m.panes[focus].Title()), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = m.View()
			}
		})
	}
	m.Update(press("3"))
	m.Update(press("z"))
	b.Run("sessions-zoomed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = m.View()
		}
	})
}

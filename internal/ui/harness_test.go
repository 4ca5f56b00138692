package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/authtui/authtui/internal/probe/database"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// press builds the message a terminal sends for a key as tea names it
// ("a", "enter", "tab", "shift+tab", "ctrl+c", "esc", "?").
func press(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	}
	r := []rune(s)
	return tea.KeyPressMsg{Code: r[0], Text: s}
}

// settle runs cmd and feeds its messages back into update, recursively,
// until nothing is left that answers within wait. Commands that wait
// longer (ticks, refresh timers) are dropped: tests drive time themselves.
func settle(t testing.TB, update func(tea.Msg) tea.Cmd, cmd tea.Cmd, wait time.Duration) {
	t.Helper()
	pump(t, update, cmd, wait, func(tea.Msg) bool { return true }, nil)
}

// pump runs cmd and feeds the messages keep accepts back into update,
// breadth first, until until() holds or nothing is left. Each command may
// take up to wait; ticks the test does not want (spinner frames, cursor
// blinks) are dropped by keep, so they never loop.
func pump(t testing.TB, update func(tea.Msg) tea.Cmd, cmd tea.Cmd, wait time.Duration, keep func(tea.Msg) bool, until func() bool) {
	t.Helper()
	queue := []tea.Cmd{cmd}
	for steps := 0; len(queue) > 0; steps++ {
		if until != nil && until() {
			return
		}
		if steps > 5000 {
			t.Fatal("pump: runaway commands")
		}
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		ch := make(chan tea.Msg, 1)
		go func() { ch <- c() }()
		var msg tea.Msg
		select {
		case msg = <-ch:
		case <-time.After(wait):
			continue
		}
		if batch, ok := msg.(tea.BatchMsg); ok {
			queue = append(queue, batch...)
			continue
		}
		if msg == nil || !keep(msg) {
			continue
		}
		queue = append(queue, update(msg))
	}
}

// checkFits fails when any line of s is wider than w or there are more
// than h lines.
func checkFits(t testing.TB, what, s string, w, h int) {
	t.Helper()
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		t.Errorf("%s at %dx%d: %d lines", what, w, h, len(lines))
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n > w {
			t.Errorf("%s at %dx%d: line %d is %d wide: %q", what, w, h, i, n, ansi.Strip(l))
			return
		}
	}
}

// openDB connects to dsn and detects its schema, as the database pane
// would; the connection closes when the test ends.
func openDB(t testing.TB, dsn string) (*database.DB, *database.Schema) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	db, err := database.Open(ctx, database.Options{URL: dsn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	schema, _, err := db.DetectSchema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return db, schema
}

package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/probe/login"
)

// consoleStack is the demo's broken stack, for real: PostgreSQL, the auth
// service on one secret, the API on another, a user signed in a few times.
type consoleStack struct {
	files  []string
	apiURL string
	cookie string // a Cookie header the auth service set
	secret []string
}

const consoleOtherSecret = "authtui-fixture-secret-C-api-0123456789abcdef"

func newConsoleStack(t *testing.T) *consoleStack {
	t.Helper()
	dsn := pgtest.DSN(t)
	auth := batest.Start(t, batest.Options{DatabaseURL: dsn, Bearer: true})
	api := batest.Start(t, batest.Options{Secret: consoleOtherSecret, DatabaseURL: dsn, Bearer: true})
	batest.SignUp(t, auth.URL, "ada@example.com", lfPassword)
	batest.SignUp(t, auth.URL, "grace@example.com", lfPassword)
	var s batest.Session
	for _, who := range []string{"ada@example.com", "grace@example.com"} {
		s = batest.SignIn(t, auth.URL, who, lfPassword)
	}
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return &consoleStack{
		files: []string{
			write("auth.env", fmt.Sprintf("BETTER_AUTH_SECRET=%s\nBETTER_AUTH_URL=%s\nDATABASE_URL=%s\n", batest.FixtureSecret, auth.URL, dsn)),
			write("api.env", fmt.Sprintf("BETTER_AUTH_SECRET=%s\nBETTER_AUTH_URL=%s\n", consoleOtherSecret, auth.URL)),
		},
		apiURL: api.URL + "/api/me",
		cookie: s.CookieHeader,
		secret: []string{batest.FixtureSecret, consoleOtherSecret, lfPassword, s.Token},
	}
}

// consoleKeep lets through the messages that carry results, and drops
// timers (refresh ticks, countdowns, blinks), so pumps end.
func consoleKeep(msg tea.Msg) bool {
	switch msg.(type) {
	case SecretsLoadedMsg, secretsLoadMsg, dbConnectedMsg, DBReadyMsg, loginEventMsg, loginDoneMsg, loginBrowserMsg, chromeFoundMsg,
		LoginReportMsg, VerdictMsg, sessionsLoadedMsg, inspDecodedMsg, inspLookedUpMsg, StatusMsg:
		return true
	}
	return false
}

// model opens the console on the stack at w × h; with run, it has also
// run the login flow and decoded the stack's cookie, as a user would in
// the first minute.
func (cs *consoleStack) model(t *testing.T, w, h int, run bool) *Model {
	t.Helper()
	m := New(Config{EnvFiles: cs.files, Timeout: 10 * time.Second,
		Login: login.Options{APIURL: cs.apiURL, Email: "ada@example.com", Password: lfPassword}})
	t.Cleanup(m.Close)
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	update := func(msg tea.Msg) tea.Cmd { _, c := m.Update(msg); return c }
	pump(t, update, m.Init(), 20*time.Second, consoleKeep, func() bool {
		return m.health() != nil && m.health().Connected && m.panes[2].(*sessionsPane).rows != nil
	})
	if !run {
		return m
	}
	pump(t, update, tea.Batch(update(press("5")), update(press("enter"))), 30*time.Second, consoleKeep, func() bool {
		v := m.Verdict()
		return v != nil && v.Login != nil
	})
	update(press("4"))
	pump(t, update, update(tea.PasteMsg{Content: cs.cookie}), 10*time.Second, consoleKeep, func() bool {
		p := m.panes[3].(*inspectorPane)
		return !p.decoding && !p.lookup && p.result != nil
	})
	update(press("1"))
	return m
}

// keyMsg is the message a terminal sends for a key as tea names it,
// including the named keys press does not know.
func keyMsg(s string) tea.KeyPressMsg {
	named := map[string]rune{"pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown, "home": tea.KeyHome, "end": tea.KeyEnd,
		"left": tea.KeyLeft, "right": tea.KeyRight, "space": tea.KeySpace, "backspace": tea.KeyBackspace, "delete": tea.KeyDelete}
	if c, ok := named[s]; ok {
		return tea.KeyPressMsg{Code: c}
	}
	if strings.HasPrefix(s, "ctrl+") && len(s) == 6 {
		return tea.KeyPressMsg{Code: rune(s[5]), Mod: tea.ModCtrl}
	}
	return press(s)
}

// honestCandidates are the keys a user might try in any pane.
var honestCandidates = func() []string {
	out := []string{"enter", "esc", "up", "down", "left", "right", "pgup", "pgdown", "home", "end", "space", "backspace", "delete", "/", "ctrl+r", "ctrl+d", "ctrl+u"}
	for c := 'a'; c <= 'z'; c++ {
		out = append(out, string(c))
	}
	for _, c := range "GKJRXYDE" {
		out = append(out, string(c))
	}
	return out
}()

// The help and the hint bar are generated from the bindings that handle
// keys; this drives every key in every pane, in two states (just opened;
// after a login run and a decoded cookie), and checks that each key the
// pane advertises changes something (the screen, the selection, or a
// command to run) and that each key it does not advertise changes
// nothing. A key that is advertised but disabled does not count.
func TestKeysHonest(t *testing.T) {
	cs := newConsoleStack(t)
	for _, run := range []bool{false, true} {
		m := cs.model(t, 160, 50, run)
		update := func(msg tea.Msg) tea.Cmd { _, c := m.Update(msg); return c }
		state := func(i int) string { return screen(m) + "\x00" + m.panes[i].Selection() }
		// restore leaves a text field, an overlay or a zoom a key opened.
		restore := func(i int) {
			for range 3 {
				switch {
				case m.panes[i].Capturing(), m.over != overlayNone:
					update(keyMsg("esc"))
					time.Sleep(10 * time.Millisecond)
				case m.zoom:
					update(keyMsg("z"))
				}
			}
		}
		global := map[string]bool{}
		for _, b := range m.keys.list() {
			for _, k := range b.Keys() {
				global[k] = true
			}
		}
		for _, b := range m.keys.Focus {
			global[b.Keys()[0]] = true
		}
		for i, p := range m.panes {
			m.setFocus(i)
			name := fmt.Sprintf("%s (after run: %v)", p.Title(), run)
			// enabled is what the pane advertises now: it changes as keys
			// are pressed (a run starts, a list scrolls), so it is asked
			// again before every key.
			enabled := func() ([]key.Binding, map[string]bool) {
				var bs []key.Binding
				keys := map[string]bool{}
				for _, b := range p.Keys() {
					if b.Enabled() {
						bs = append(bs, b)
						for _, k := range b.Keys() {
							keys[k] = true
						}
					}
				}
				return bs, keys
			}
			tried := map[string]bool{}
			for range 40 {
				bs, _ := enabled()
				var b *key.Binding
				for j := range bs {
					if !tried[bs[j].Help().Desc] {
						b = &bs[j]
						break
					}
				}
				if b == nil {
					break
				}
				tried[b.Help().Desc] = true
				k := b.Keys()[0]
				if global[k] {
					t.Errorf("%s: %q is both a pane key and a global key", name, k)
				}
				before := state(i)
				cmd := update(keyMsg(k))
				if cmd == nil && state(i) == before {
					t.Errorf("%s: advertised key %q (%s) changed nothing", name, k, b.Help().Desc)
				}
				restore(i)
			}
			for _, k := range honestCandidates {
				_, advertised := enabled()
				if advertised[k] || global[k] {
					continue
				}
				// A relative time on screen can tick over between two
				// renders: a key counts as doing something only when it
				// does so twice.
				changed := 0
				for range 2 {
					before := state(i)
					cmd := update(keyMsg(k))
					if cmd != nil || state(i) != before {
						changed++
					}
					restore(i)
				}
				if changed == 2 {
					t.Errorf("%s: key %q is not advertised but changes something", name, k)
				}
			}
		}
	}
}

// The console at the three sizes people run it at, on the demo's broken
// stack after a login run and a decoded cookie: everything fits, the
// header leads with the one verdict and counts root causes, the summaries
// show content (sessions with their users, the latency sparkline, the
// cookie's and the login's verdicts), and no secret, password or full
// token is on screen. The screens are logged (go test -v) for review.
func TestConsoleScreens(t *testing.T) {
	cs := newConsoleStack(t)
	m := cs.model(t, 120, 40, true)
	for _, size := range [][2]int{{80, 24}, {120, 40}, {200, 60}} {
		w, h := size[0], size[1]
		m.Update(tea.WindowSizeMsg{Width: w, Height: h})
		raw := m.View().Content
		s := screen(m)
		t.Logf("console at %dx%d:\n%s", w, h, s)
		checkFits(t, fmt.Sprintf("console %dx%d", w, h), raw, w, h)
		lines := strings.Split(s, "\n")
		head := lines[1]
		if !strings.HasPrefix(strings.TrimSpace(head), "✗ secret-mismatch") || !strings.Contains(head, "1 root cause") {
			t.Errorf("%dx%d: header line %q does not lead with the verdict and its root-cause count", w, h, head)
		}
		if strings.Contains(head, "error(s)") {
			t.Errorf("%dx%d: header counts findings as causes: %q", w, h, head)
		}
		want := []string{"grace@example.com", "✓ valid, signed by"} // the newest session's user, the cookie's verdict
		if h >= 40 {
			want = append(want, "ada@example.com", "db: session-valid", "6 ✓ 3 ✗") // more sessions, the lookup, the login's steps
		}
		for _, wnt := range want {
			if !strings.Contains(s, wnt) {
				t.Errorf("%dx%d: screen lacks %q", w, h, wnt)
			}
		}
		if h >= 40 && !strings.ContainsAny(s, "▁▂▃▄▅▆▇█") {
			t.Errorf("%dx%d: no latency sparkline", w, h)
		}
		for _, secret := range cs.secret {
			if strings.Contains(raw, secret) {
				t.Errorf("%dx%d: a secret, password or token on screen", w, h)
			}
		}
	}
}

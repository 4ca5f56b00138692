package ui

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
)

const (
	secretA = "authtui-fixture-secret-A-0123456789abcdef"
	secretC = "authtui-fixture-secret-C-00112233445566778899"
)

func envFile(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// newTestModel builds the console on two env files that disagree, sized
// w × h, with its start-up commands settled.
func newTestModel(t testing.TB, w, h int) (*Model, []string) {
	t.Helper()
	files := []string{
		envFile(t, "auth.env", "BETTER_AUTH_SECRET="+secretA+"\nBETTER_AUTH_URL=http://127.0.0.1:1\n"),
		envFile(t, "api.env", "BETTER_AUTH_SECRET="+secretC+"\nBETTER_AUTH_URL=http://127.0.0.1:1\n"),
	}
	m := New(Config{EnvFiles: files, Timeout: time.Second})
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	update := func(msg tea.Msg) tea.Cmd { _, c := m.Update(msg); return c }
	settle(t, update, m.Init(), 300*time.Millisecond)
	return m, files
}

func screen(m *Model) string { return ansi.Strip(m.View().Content) }

func TestRootShowsSecretMismatch(t *testing.T) {
	m, files := newTestModel(t, 100, 30)
	s := screen(m)
	for _, want := range []string{"1 Secrets", "5 Login flow", "2 different secrets", files[0], "✗ secret-mismatch (1 error(s)"} {
		if !strings.Contains(s, want) {
			t.Errorf("screen lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(m.View().Content, secretA) {
		t.Fatal("a secret on screen")
	}
}

func TestRootKeys(t *testing.T) {
	m, _ := newTestModel(t, 100, 30)
	key := func(k string) tea.Cmd { _, c := m.Update(press(k)); return c }

	key("3")
	if m.focus != 2 {
		t.Fatalf("3 focuses pane 3, focus=%d", m.focus)
	}
	key("tab")
	key("tab")
	key("tab")
	if m.focus != 0 {
		t.Errorf("tab wraps around, focus=%d", m.focus)
	}
	key("shift+tab")
	if m.focus != 4 {
		t.Errorf("shift+tab goes back, focus=%d", m.focus)
	}
	key("z")
	if !m.zoom || !strings.Contains(screen(m), "(zoomed)") {
		t.Error("z zooms")
	}
	key("z")
	key("?")
	s := screen(m)
	// The help is generated from the very bindings that handle keys.
	for _, b := range m.keys.list() {
		if !strings.Contains(s, b.Help().Desc) {
			t.Errorf("help lacks %q", b.Help().Desc)
		}
	}
	key("esc")
	if m.over != overlayNone {
		t.Error("esc closes help")
	}
	key("f")
	if !strings.Contains(screen(m), "secret-mismatch") {
		t.Errorf("findings list:\n%s", screen(m))
	}
	key("esc")
	key("m")
	if m.mouse || m.View().MouseMode != tea.MouseModeNone {
		t.Error("m turns mouse mode off, giving the terminal its selection back")
	}
	key("1")
	if c := key("y"); c == nil {
		t.Error("y copies the selected fingerprint")
	}
	if c := key("q"); c == nil {
		t.Fatal("q quits")
	} else if _, ok := c().(tea.QuitMsg); !ok {
		t.Error("q returns tea.Quit")
	}
}

func TestRootMouseFocus(t *testing.T) {
	m, _ := newTestModel(t, 100, 30)
	l := m.layout()
	y := l.headerH + l.leftH[0] + l.leftH[1] + 1 // inside the third summary box
	m.Update(tea.MouseClickMsg{X: 2, Y: y, Button: tea.MouseLeft})
	if m.focus != 2 {
		t.Errorf("click at y=%d focused %d", y, m.focus)
	}
}

func TestRootTooSmall(t *testing.T) {
	m, _ := newTestModel(t, 50, 10)
	if s := screen(m); !strings.Contains(s, "Terminal too small") {
		t.Errorf("tiny terminal:\n%s", s)
	}
	checkFits(t, "tiny", m.View().Content, 50, 10)
}

// No line is ever wider than the terminal, from 40 to 200 columns, in
// every mode.
func TestRootWidthSweep(t *testing.T) {
	m, _ := newTestModel(t, 80, 24)
	for w := 40; w <= 200; w += 7 {
		for _, h := range []int{12, 24, 60} {
			m.Update(tea.WindowSizeMsg{Width: w, Height: h})
			for _, mode := range []string{"", "z", "?", "f"} {
				if mode != "" {
					m.Update(press(mode))
				}
				checkFits(t, "root "+mode, m.View().Content, w, h)
				if mode != "" {
					m.Update(press(map[string]string{"z": "z", "?": "esc", "f": "esc"}[mode]))
				}
			}
		}
	}
}

// The whole program runs headless: input from a reader, output to a
// buffer, a fixed size, and quits on q.
func TestProgramSmoke(t *testing.T) {
	files := []string{envFile(t, "auth.env", "BETTER_AUTH_SECRET="+secretA+"\n")}
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	in := strings.NewReader("")
	p := tea.NewProgram(New(Config{EnvFiles: files}),
		tea.WithInput(in), tea.WithOutput(&out), tea.WithWindowSize(100, 30),
		tea.WithContext(ctx), tea.WithoutSignals(), tea.WithColorProfile(colorprofile.Ascii))
	go func() {
		time.Sleep(500 * time.Millisecond)
		p.Send(press("2"))
		p.Send(press("q"))
	}()
	final, err := p.Run()
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if m := final.(*Model); m.focus != 1 {
		t.Errorf("focus %d after pressing 2", m.focus)
	}
	if !strings.Contains(ansi.Strip(out.String()), "Secrets") {
		t.Errorf("output lacks the panes")
	}
}

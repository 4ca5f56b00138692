package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/jackc/pgx/v5"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/probe/login"
	"github.com/authtui/authtui/internal/testenv"
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
	for _, want := range []string{"1 Secrets", "5 Login flow", "2 different secrets", files[0]} {
		if !strings.Contains(s, want) {
			t.Errorf("screen lacks %q:\n%s", want, s)
		}
	}
	// The header leads with the one verdict, its headline and the number
	// of root causes it names, then how many findings f lists.
	head := strings.SplitN(s, "\n", 3)[1]
	for _, want := range []string{"✗ secret-mismatch  sources resolve to 2 different secrets", "· 1 root cause · f: findings (1)"} {
		if !strings.Contains(head, want) {
			t.Errorf("header lacks %q: %q", want, head)
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

// R writes the Markdown report of the console's current verdict to
// authtui-report-<time>.md in the console's directory, and says where. A
// real stack: the auth service and an API on another secret, the API's
// env file not given, so the verdict cannot decide between two causes;
// the header says so. The file holds the verdict, the versions and the
// steps, and no secret, password or session token of the run.
func TestConsoleReportFile(t *testing.T) {
	dsn := pgtest.DSN(t)
	const otherSecret = "authtui-fixture-secret-C-api-0123456789abcdef"
	srvs := batest.StartAll(t, batest.Options{DatabaseURL: dsn, Bearer: true}, batest.Options{Secret: otherSecret, DatabaseURL: dsn, Bearer: true})
	auth, api := srvs[0], srvs[1]
	batest.SignUp(t, auth.URL, "ada@example.com", lfPassword)

	// The auth service's env file, with the better-auth it runs installed
	// next to it: the report names that version.
	svc := t.TempDir()
	baDir, err := testenv.BetterAuthDir()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(baDir, "node_modules"), filepath.Join(svc, "node_modules")); err != nil {
		t.Fatal(err)
	}
	authEnv := filepath.Join(svc, ".env")
	if err := os.WriteFile(authEnv, []byte(fmt.Sprintf("BETTER_AUTH_SECRET=%s\nBETTER_AUTH_URL=%s\nDATABASE_URL=%s\n", batest.FixtureSecret, auth.URL, dsn)), 0o600); err != nil {
		t.Fatal(err)
	}
	baVersion := packageVersion(t, filepath.Join(baDir, "node_modules", "better-auth", "package.json"))

	dir := t.TempDir()
	m := New(Config{EnvFiles: []string{authEnv}, Dir: dir, Version: "authtui v9.8.7-test", Timeout: 10 * time.Second,
		Login: login.Options{APIURL: api.URL + "/api/me", Email: "ada@example.com", Password: lfPassword, KeepSession: true}})
	m.Update(tea.WindowSizeMsg{Width: 140, Height: 40})
	update := func(msg tea.Msg) tea.Cmd { _, c := m.Update(msg); return c }
	keep := func(msg tea.Msg) bool {
		switch fmt.Sprintf("%T", msg) {
		case "ui.SecretsLoadedMsg", "ui.secretsLoadMsg", "ui.dbConnectedMsg", "ui.DBReadyMsg", "ui.loginEventMsg",
			"ui.loginDoneMsg", "ui.LoginReportMsg", "ui.VerdictMsg", "ui.reportMetaMsg", "ui.StatusMsg":
			return true
		}
		return false
	}
	pump(t, update, m.Init(), 20*time.Second, keep, func() bool { return m.health() != nil && m.health().Connected })
	pump(t, update, tea.Batch(update(press("5")), update(press("enter"))), 30*time.Second, keep, func() bool {
		v := m.Verdict()
		return v != nil && v.Login != nil
	})
	rep := m.Verdict()
	if rep == nil || rep.Verdict.ID != "api-rejects-session" || !rep.Verdict.Undecided || len(rep.Verdict.Alternatives) != 2 {
		t.Fatalf("verdict %+v", rep)
	}
	head := strings.SplitN(screen(m), "\n", 3)[1]
	if !strings.Contains(head, "? api-rejects-session  Your API answers 401") || !strings.Contains(head, "· 2 possible causes · f: findings (") {
		t.Errorf("header %q", head)
	}

	pump(t, update, update(press("R")), 10*time.Second, keep, func() bool { return strings.Contains(m.status, "report") })
	files, _ := filepath.Glob(filepath.Join(dir, "authtui-report-*.md"))
	if len(files) != 1 || !regexp.MustCompile(`^authtui-report-[0-9]{8}-[0-9]{6}\.md$`).MatchString(filepath.Base(files[0])) {
		t.Fatalf("report files %v; status %q", files, m.status)
	}
	if bar := screen(m); !strings.Contains(bar[strings.LastIndex(bar, "\n")+1:], "report written to "+files[0]) {
		t.Errorf("the hint bar does not say where the report is: %q", bar[strings.LastIndex(bar, "\n")+1:])
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	md := string(data)
	for _, want := range []string{
		"# authtui report", "## Diagnosis", "api-rejects-session", "Possible causes, most likely first",
		"## Versions", "**authtui** v9.8.7-test", "**BetterAuth** " + baVersion, "**PostgreSQL** " + rep.Database.ServerVersion,
		"## Login flow", "Sign in with email and password", "Your API with the cookie",
		"## Configuration", "**base URL** " + auth.URL, "## Secrets", "## Database", "## Findings",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q:\n%s", want, md)
		}
	}
	tokens := sessionTokens(t, dsn, "ada@example.com")
	if len(tokens) < 2 {
		t.Fatalf("%d session tokens: the run's (kept) and the sign-up's expected", len(tokens))
	}
	for _, s := range append([]string{batest.FixtureSecret, otherSecret, lfPassword}, tokens...) {
		if strings.Contains(md, s) {
			t.Errorf("the report holds a secret, the password or a session token (%d chars)", len(s))
		}
	}
}

// A report already written is never replaced: a second one in the same
// second gets its own name.
func TestCreateReportKeepsEarlier(t *testing.T) {
	dir := t.TempDir()
	first, err := createReport(dir, "authtui-report-x", []byte("one"))
	if err != nil {
		t.Fatal(err)
	}
	second, err := createReport(dir, "authtui-report-x", []byte("two"))
	if err != nil || second == first || filepath.Base(second) != "authtui-report-x-2.md" {
		t.Fatalf("second report %q (%v)", second, err)
	}
	if b, _ := os.ReadFile(first); string(b) != "one" {
		t.Errorf("the first report was overwritten: %q", b)
	}
	if _, err := createReport(filepath.Join(dir, "missing"), "r", nil); err == nil {
		t.Error("no error for a directory that does not exist")
	}
}

func packageVersion(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct{ Version string }
	if err := json.Unmarshal(data, &pkg); err != nil || pkg.Version == "" {
		t.Fatalf("%s: %v", path, err)
	}
	return pkg.Version
}

// sessionTokens are the session tokens of a user, from the database.
func sessionTokens(t *testing.T, dsn, email string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT s.token FROM session s JOIN "user" u ON u.id = s."userId" WHERE u.email = $1`, email)
	if err != nil {
		t.Fatal(err)
	}
	toks, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return toks
}

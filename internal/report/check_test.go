package report

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/check"
	"github.com/authtui/authtui/internal/probe/login"
	"github.com/authtui/authtui/internal/testenv"
)

const ckPassword = "correct horse battery staple"

// ckRun runs the check pipeline as `authtui check` does, on env files.
func ckRun(t *testing.T, files []string, flags probe.Flags, email, password string) *check.Report {
	t.Helper()
	sources, loadFs := probe.LoadSources(probe.SourceOptions{EnvFiles: files})
	if flags.Timeout == 0 {
		flags.Timeout = 10 * time.Second
	}
	cfg := probe.Resolve(flags, sources, nil)
	rep := check.Run(context.Background(), check.Options{Config: cfg, LoadFindings: loadFs, Email: email, Password: password}, nil)
	if db := rep.DB(); db != nil {
		db.Close()
	}
	return rep
}

// ckServiceDir is an auth service's directory: its env file, and the
// better-auth the test server runs installed next to it. It returns the
// env file and that package's version, read from its package.json.
func ckServiceDir(t *testing.T, env string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	ba, err := testenv.BetterAuthDir()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(ba, "node_modules"), filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, ".env")
	if err := os.WriteFile(path, []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}
	var pkg struct{ Version string }
	data, err := os.ReadFile(filepath.Join(ba, "node_modules", "better-auth", "package.json"))
	if err != nil || json.Unmarshal(data, &pkg) != nil || pkg.Version == "" {
		t.Fatalf("better-auth's package.json: %v", err)
	}
	return path, pkg.Version
}

// ckFlat is text with one space between words: the column widths are
// Layout's business, not these tests'.
func ckFlat(s string) string { return strings.Join(strings.Fields(s), " ") }

func ckTitles(bs []Block) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.Title)
	}
	return out
}

// A whole healthy run against a real BetterAuth server: the blocks in
// the order the run went, each step a row with its mark, the rows lined
// up, the versions (BetterAuth's found next to the env file the server
// signs with), and no secret or password anywhere.
func TestCheckOfRealRun(t *testing.T) {
	srv := batest.Start(t, batest.Options{Bearer: true})
	batest.SignUp(t, srv.URL, "ada@example.com", ckPassword)
	env, baVersion := ckServiceDir(t, "BETTER_AUTH_SECRET="+batest.FixtureSecret+"\nBETTER_AUTH_URL="+srv.URL+"\n")
	rep := ckRun(t, []string{env}, probe.Flags{}, "ada@example.com", ckPassword)
	if !rep.Healthy || rep.Login == nil || len(rep.Steps) < 6 {
		t.Fatalf("run: healthy %v, %d steps, verdict %+v", rep.Healthy, len(rep.Steps), rep.Verdict)
	}

	now := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	meta := RunMeta(rep, "authtui v1.2.3", t.TempDir(), now)
	if meta.BetterAuth != baVersion || meta.BetterAuthFrom != filepath.Join(filepath.Dir(env), "node_modules", "better-auth", "package.json") {
		t.Errorf("BetterAuth %q from %q, want %s next to %s", meta.BetterAuth, meta.BetterAuthFrom, baVersion, env)
	}
	bs := Check(rep, meta)
	want := []string{"Configuration", "Versions", "Secrets", "Login flow", "Skipped", "Findings", "Diagnosis"}
	if got := ckTitles(bs); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("blocks %v, want %v", got, want)
	}

	// One row per step, marked as the step ended; the counts say so.
	lb := Login(rep.Login)
	rows := 0
	counts := map[string]int{}
	for _, l := range lb.Lines {
		if l.Indent > 0 {
			continue
		}
		e := rep.Steps[rows]
		if mark, _ := StepMark(e.Status); l.Spans[0].Text != mark || !strings.Contains(l.Text(), e.Title) {
			t.Errorf("row %d %q for step %s %s", rows, l.Text(), e.Status, e.Title)
		}
		counts[e.Status]++
		rows++
	}
	if rows != len(rep.Steps) {
		t.Fatalf("%d rows for %d steps", rows, len(rep.Steps))
	}
	if wantMeta := fmt.Sprintf("%d ✓", counts[login.StatusOK]); !strings.HasPrefix(lb.Meta, wantMeta) {
		t.Errorf("counts %q, want %q first", lb.Meta, wantMeta)
	}
	// The HTTP statuses line up: every 200 of a row in the same column.
	col := -1
	for _, line := range strings.Split(TextString([]Block{lb}, TextOptions{}), "\n") {
		if i := strings.Index(line, " 200 "); i >= 0 {
			i = ansi.StringWidth(line[:i]) // cells: ✓ is 3 bytes, - one
			if col >= 0 && i != col {
				t.Errorf("status column %d, not %d: %q", i, col, line)
			}
			col = i
		}
	}
	if col < 0 {
		t.Error("no row shows 200")
	}

	text := TextString(bs, TextOptions{})
	var md strings.Builder
	if err := CheckMarkdown(&md, rep, meta); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"authtui v1.2.3", "BetterAuth " + baVersion, "PostgreSQL not checked", "base URL " + srv.URL + " from BETTER_AUTH_URL in " + env, "✓ healthy"} {
		if !strings.Contains(ckFlat(text), w) {
			t.Errorf("text lacks %q:\n%s", w, text)
		}
	}
	if !strings.HasPrefix(md.String(), "# authtui report\n\nRun at "+Time(now)+" ") || !strings.Contains(md.String(), "\n## Login flow <sub>") {
		t.Errorf("markdown:\n%s", md.String())
	}
	for _, out := range []string{text, md.String()} {
		if strings.Contains(out, batest.FixtureSecret) || strings.Contains(out, ckPassword) {
			t.Fatal("a secret or the password in the report")
		}
	}
}

// A sign-in answered with a redirect (a login wall in front of the auth
// service): the failed step's detail below its row, then the redirect,
// shown without its query and never followed.
func TestStepRedirect(t *testing.T) {
	srv := batest.Start(t, batest.Options{})
	target, _ := url.Parse(srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/sign-in/email") {
			http.Redirect(w, r, "https://sso.example.com/login?return=%2Fapi&token=wall-token-123", http.StatusFound)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	env := filepath.Join(t.TempDir(), "auth.env")
	if err := os.WriteFile(env, []byte("BETTER_AUTH_SECRET="+batest.FixtureSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rep := ckRun(t, []string{env}, probe.Flags{BaseURL: front.URL}, "ada@example.com", ckPassword)
	var signIn *login.Event
	for i, e := range rep.Steps {
		if e.Step == login.StepSignIn {
			signIn = &rep.Steps[i]
		}
	}
	if signIn == nil || signIn.Status != login.StatusFail || signIn.Redirect == "" {
		t.Fatalf("sign-in step %+v", signIn)
	}
	ls := StepLines(*signIn)
	if len(ls) != 3 {
		t.Fatalf("%d lines: %+v", len(ls), ls)
	}
	if row := ls[0].Text(); !strings.HasPrefix(row, "✗ Sign in with email and password") || !strings.Contains(row, " 302 ") || strings.Contains(row, signIn.Detail) {
		t.Errorf("row %q", row)
	}
	if d := ls[1]; d.Indent != 1 || !d.Prose || d.Tone() != Bad || d.Text() == "" {
		t.Errorf("detail %+v", d)
	}
	if r := ls[2].Text(); r != "redirect → https://sso.example.com/login?… (not followed)" || ls[2].Indent != 1 {
		t.Errorf("redirect line %q", r)
	}
	out := TextString([]Block{Login(rep.Login)}, TextOptions{})
	if strings.Contains(out, "wall-token-123") || !strings.Contains(out, "    redirect → https://sso.example.com/login?… (not followed)") {
		t.Errorf("text:\n%s", out)
	}
}

// A run cancelled in the middle of a step: no step stays "running", the
// block says the run was cancelled.
func TestLoginCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan login.Event, 16)
	done := make(chan *login.Result, 1)
	go func() {
		done <- login.Run(ctx, login.Options{BaseURL: "http://" + testenv.SilentListener(t), Email: "a@example.com", Password: "x", Timeout: 20 * time.Second}, events)
	}()
	first := <-events
	if first.Phase != login.PhaseStart {
		t.Fatalf("first event %+v", first)
	}
	cancel()
	for range events {
	}
	res := <-done
	if !res.Cancelled {
		t.Fatal("not cancelled")
	}
	b := Login(res)
	text := TextString([]Block{b}, TextOptions{})
	if !strings.Contains(text, "- cancelled: the run stopped before its end") || strings.Contains(text, "…  ") {
		t.Errorf("text:\n%s", text)
	}
	for _, e := range FoldSteps(res.Events, true) {
		if e.Status == login.StatusRunning || e.Phase != login.PhaseEnd {
			t.Errorf("step %s still %s/%s", e.Step, e.Phase, e.Status)
		}
	}
	// While it runs, a started step is one row, marked as running, until
	// its end replaces it.
	live := FoldSteps([]login.Event{first}, false)
	if len(live) != 1 || Step(live[0]).Spans[0].Text != "…" {
		t.Errorf("live steps %+v", live)
	}
}

// The configuration shows where each value came from, URLs without
// userinfo and query, the database without its password.
func TestConfiguration(t *testing.T) {
	cfg := probe.Resolve(probe.Flags{
		BaseURL:     "https://admin:hunter22@auth.example.com/api/auth?token=abc123",
		DatabaseURL: "postgres://app:pg-secret-99@db.example.com:5433/app?sslmode=require&password=pg-secret-99",
	}, nil, nil)
	b := Configuration(cfg)
	text := TextString([]Block{b}, TextOptions{})
	for _, w := range []string{
		"base URL https://auth.example.com/api/auth?… from --base-url",
		"origin https://auth.example.com from the base URL's origin",
		"API URL not set",
		"database app@db.example.com:5433/app from --database-url",
		"timeout 10s per network step",
	} {
		if !strings.Contains(ckFlat(text), w) {
			t.Errorf("lacks %q:\n%s", w, text)
		}
	}
	for _, secret := range []string{"hunter22", "abc123", "pg-secret-99", "sslmode"} {
		if strings.Contains(text, secret) {
			t.Errorf("shows %q:\n%s", secret, text)
		}
	}
}

// Only a better-auth package.json with a version is taken: another
// package, an unreadable or odd version, is "not known", never a guess.
func TestFindBetterAuth(t *testing.T) {
	write := func(name, body string) string {
		dir := t.TempDir()
		p := filepath.Join(dir, "node_modules", "better-auth")
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "package.json"), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	other := write("other", `{"name":"not-better-auth","version":"1.0.0"}`)
	odd := write("odd", `{"name":"better-auth","version":"latest\u001b[31m"}`)
	broken := write("broken", `{"name":"better-auth",`)
	good := write("good", `{"name":"better-auth","version":"1.3.0-beta.2"}`)
	if v, from := FindBetterAuth(other, odd, broken, t.TempDir()); v != "" || from != "" {
		t.Errorf("found %q in %q", v, from)
	}
	if v, from := FindBetterAuth(other, good); v != "1.3.0-beta.2" || from != filepath.Join(good, "node_modules", "better-auth", "package.json") {
		t.Errorf("found %q in %q", v, from)
	}
	rep := &check.Report{}
	text := TextString([]Block{Versions(rep, Meta{Version: "authtui devel"})}, TextOptions{})
	if !strings.Contains(ckFlat(text), "BetterAuth not known") || !strings.Contains(ckFlat(text), "authtui devel") {
		t.Errorf("versions:\n%s", text)
	}
}

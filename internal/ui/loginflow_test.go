package ui

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authtui/authtui/internal/testenv"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/login"
)

const lfPassword = "Tr0ub4dor-and-3-horses"

func lfKeep(msg tea.Msg) bool {
	switch msg.(type) {
	case loginEventMsg, loginDoneMsg, loginBrowserMsg:
		return true
	}
	return false
}

// lfRun drives a run to its end, executing the pane's commands
// synchronously; snapshots are the views seen after each event.
func lfRun(t testing.TB, p *loginPane, cmd tea.Cmd) (snapshots []string) {
	t.Helper()
	update := func(msg tea.Msg) tea.Cmd {
		c := p.Update(msg)
		snapshots = append(snapshots, ansi.Strip(p.View(140, 40))+"\n"+ansi.Strip(p.Summary(50, 3)))
		return c
	}
	pump(t, update, cmd, 30*time.Second, lfKeep, func() bool { return !p.running })
	if p.running {
		t.Fatalf("the run did not end:\n%s", ansi.Strip(p.View(140, 40)))
	}
	return snapshots
}

func newTestLogin(t testing.TB, cfg *Config, serverURL string) *loginPane {
	t.Helper()
	p := newLoginPane(cfg, newStyles())
	p.SetFocused(true)
	env := insEnvFile(t, "auth.env", "BETTER_AUTH_SECRET="+batest.FixtureSecret+"\nBETTER_AUTH_URL="+serverURL+"\n")
	p.Update(insSecrets(t, env))
	return p
}

func lfNoPassword(t testing.TB, p *loginPane, pw string) {
	t.Helper()
	for _, s := range []string{p.View(200, 60), p.Summary(60, 4), p.Selection()} {
		if strings.Contains(s, pw) {
			t.Fatalf("the password is on screen:\n%s", ansi.Strip(s))
		}
	}
	for _, f := range p.Findings() {
		if strings.Contains(f.Message, pw) {
			t.Fatalf("the password is in finding %s", f.ID)
		}
	}
}

func TestLoginFlowAgainstBetterAuth(t *testing.T) {
	srv := batest.Start(t, batest.Options{})
	batest.SignUp(t, srv.URL, "ada@example.com", lfPassword)

	t.Run("configured credentials", func(t *testing.T) {
		cfg := &Config{Timeout: 10 * time.Second, Login: login.Options{BaseURL: srv.URL, Email: "ada@example.com", Password: lfPassword}}
		p := newTestLogin(t, cfg, srv.URL)
		if s := insFlat(p.Summary(40, 3)); !strings.Contains(s, "enter: sign in as ada@example.com") {
			t.Errorf("idle summary: %s", s)
		}
		cmd := p.Update(press("enter"))
		if !p.running || cmd == nil {
			t.Fatal("enter did not start a run")
		}
		snaps := lfRun(t, p, cmd)
		running := false
		for _, s := range snaps {
			running = running || regexp.MustCompile(`running \d+/\d+…`).MatchString(s)
		}
		if !running {
			t.Errorf("no view while running showed progress: %q", snaps)
		}
		v := insFlat(p.View(160, 50))
		for _, want := range []string{
			"✓ Reach the auth service 200", "BetterAuth answers at",
			"✓ Sign in with email and password 200", "signed in as ada@example.com",
			"✓ Inspect the issued cookie", "signed with the secret of",
			"✓ get-session with the cookie 200", "session of ada@example.com",
			"- get-session with the bearer token", "- Look up the session row",
			"Diagnosis ✓ healthy No problem found", "the server signs with the secret of",
			"server-secret-identified",
		} {
			if !strings.Contains(v, want) {
				t.Errorf("view lacks %q:\n%s", want, v)
			}
		}
		if s := insFlat(p.Summary(60, 3)); !strings.Contains(s, "✓ healthy") {
			t.Errorf("summary: %s", s)
		}
		if !strings.HasPrefix(p.Selection(), "No problem found") {
			t.Errorf("selection %q", p.Selection())
		}
		if !p.Findings().Has(finding.ServerSecretIdentified) {
			t.Errorf("findings %v", p.Findings())
		}
		lfNoPassword(t, p, lfPassword)
	})

	t.Run("wrong password", func(t *testing.T) {
		wrong := "not-the-password-42"
		cfg := &Config{Timeout: 10 * time.Second, Login: login.Options{BaseURL: srv.URL, Email: "ada@example.com", Password: wrong}}
		p := newTestLogin(t, cfg, srv.URL)
		lfRun(t, p, p.Update(press("enter")))
		if s := insFlat(p.Summary(60, 3)); !strings.Contains(s, "✗ login-credentials-rejected") {
			t.Errorf("summary: %s", s)
		}
		v := insFlat(p.View(160, 50))
		for _, want := range []string{"✗ Sign in with email and password 401", "Diagnosis ✗ login-credentials-rejected", "The test credentials were refused"} {
			if !strings.Contains(v, want) {
				t.Errorf("view lacks %q:\n%s", want, v)
			}
		}
		if !p.Findings().Has(finding.LoginCredentialsRejected) {
			t.Errorf("findings %v", p.Findings())
		}
		lfNoPassword(t, p, wrong)
	})

	t.Run("credentials form", func(t *testing.T) {
		cfg := &Config{Timeout: 10 * time.Second, Login: login.Options{BaseURL: srv.URL, Email: "ada@example.com"}}
		p := newTestLogin(t, cfg, srv.URL)
		p.Update(press("enter"))
		if !p.Capturing() || p.running {
			t.Fatal("enter without a password did not open the form")
		}
		if p.field != 1 || p.email.Value() != "ada@example.com" {
			t.Errorf("form: field %d, email %q", p.field, p.email.Value())
		}
		// esc cancels; the form opens again empty.
		p.Update(press("x"))
		p.Update(press("esc"))
		if p.Capturing() || p.password.Value() != "" {
			t.Fatal("esc left the form open or the password behind")
		}
		p.Update(press("enter"))
		for _, r := range lfPassword {
			p.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
		}
		if !strings.Contains(ansi.Strip(p.View(120, 30)), "password") {
			t.Error("no password field")
		}
		lfNoPassword(t, p, lfPassword)
		// tab goes back to the email, enter from there moves on.
		p.Update(press("tab"))
		if p.field != 0 {
			t.Errorf("tab: field %d", p.field)
		}
		cmd := p.Update(press("enter"))
		if p.field != 1 || p.running {
			t.Fatalf("enter on the email field: field %d running %v", p.field, p.running)
		}
		cmd = p.Update(press("enter"))
		if p.Capturing() || !p.running {
			t.Fatal("enter on the password did not start the run")
		}
		if p.password.Value() != "" {
			t.Error("the password stayed in the field after the run started")
		}
		lfRun(t, p, cmd)
		if s := insFlat(p.Summary(60, 3)); !strings.Contains(s, "✓ healthy") {
			t.Errorf("summary: %s\n%s", s, insFlat(p.View(160, 50)))
		}
		lfNoPassword(t, p, lfPassword)
	})
}

func TestLoginFlowCancel(t *testing.T) {
	// A server that accepts connections and never answers.
	url := "http://" + testenv.SilentListener(t)
	cfg := &Config{Timeout: 20 * time.Second, Login: login.Options{BaseURL: url, Email: "a@example.com", Password: "x"}}
	p := newTestLogin(t, cfg, url)
	cmd := p.Update(press("enter"))

	// Take the first event (the first step starting), then cancel.
	update := func(msg tea.Msg) tea.Cmd { return p.Update(msg) }
	var next tea.Cmd
	pump(t, func(msg tea.Msg) tea.Cmd { next = update(msg); return nil }, cmd, 5*time.Second, lfKeep, func() bool { return len(p.steps) > 0 })
	if len(p.steps) == 0 || !p.running {
		t.Fatal("no step started")
	}
	if s := insFlat(p.Summary(50, 3)); !strings.Contains(s, "running 1/7…") {
		t.Errorf("summary while running: %s", s)
	}
	begin := time.Now()
	p.Update(press("esc"))
	lfRun(t, p, next)
	if d := time.Since(begin); d > 5*time.Second {
		t.Errorf("cancelling took %s", d)
	}
	if s := insFlat(p.Summary(50, 3)); !strings.Contains(s, "- cancelled") {
		t.Errorf("summary: %s", s)
	}
	v := insFlat(p.View(120, 30))
	if !strings.Contains(v, "- cancelled: the run stopped before its end") || strings.Contains(v, "Diagnosis") {
		t.Errorf("view: %s", v)
	}
	if len(p.Findings()) != 0 || p.Selection() != "" {
		t.Errorf("a cancelled run reports %v / %q", p.Findings(), p.Selection())
	}

	// Events of an older run are dropped.
	before := len(p.steps)
	if cmd := p.Update(loginEventMsg{run: p.runID - 1, ev: login.Event{Step: "x", Title: "stale", Phase: "start"}}); cmd != nil || len(p.steps) != before {
		t.Error("a stale event was applied")
	}
}

func TestLoginFlowReplay(t *testing.T) {
	dsn := pgtest.DSN(t)
	seed := pgtest.SeedBetterAuth(t, dsn, pgtest.SeedOptions{Users: 1, SessionsPerUser: 1})
	srv := batest.Start(t, batest.Options{DatabaseURL: dsn})
	db, schema := openDB(t, dsn)

	p := newTestLogin(t, &Config{Timeout: 10 * time.Second, Login: login.Options{BaseURL: srv.URL}}, srv.URL)
	// Without a database replay cannot run: p is not advertised and does
	// nothing (TestKeysHonest holds every key to that).
	for _, k := range p.Keys() {
		if k.Help().Key == "p" && k.Enabled() {
			t.Fatal("p advertised without a database")
		}
	}
	if cmd := p.Update(press("p")); cmd != nil || p.notice != "" {
		t.Fatalf("p without a database: %q", p.notice)
	}
	p.Update(DBReadyMsg{DB: db, Schema: schema})
	help := ""
	for _, k := range p.Keys() {
		if k.Help().Key == "p" && k.Enabled() {
			help = k.Help().Desc
		}
	}
	if !strings.Contains(help, "real user's session") {
		t.Errorf("p's help: %q", help)
	}
	lfRun(t, p, p.Update(press("p")))
	v := insFlat(p.View(180, 60))
	for _, want := range []string{
		"replaying session latest", "✓ Read a session token from the database", "session " + seed.Sessions[0].ID,
		"✓ Replay signed with", "accepted: the server signs with this secret", "rejected (null): not this secret",
		"Diagnosis ✓ healthy",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, seed.Sessions[0].Token) {
		t.Fatal("the replayed token is on screen")
	}
}

func TestLoginWidthSweep(t *testing.T) {
	cfg := &Config{TailFile: "/nonexistent/auth.log", Login: login.Options{BaseURL: "https://auth.example.com/with/a/very/long/path/to/see/what/happens"}}
	p := newLoginPane(cfg, newStyles())
	p.Init()
	p.addTail([]tailLine{newTailLine("GET /api/auth/get-session " + strings.Repeat("x", 300)), newTailLine("short")})
	fs := finding.List{}
	fs.Add(finding.APIRejectsSession, "api-cookie", "the API https://api.example.com/me answered 401 %s for the cookie", strings.Repeat("long ", 60))
	events := []login.Event{
		{Step: login.StepOK, Title: "Reach the auth service", Phase: "end", Status: login.StatusOK, HTTPStatus: 200, Duration: 3 * time.Millisecond, Detail: "BetterAuth answers at " + strings.Repeat("y", 200)},
		{Step: login.StepSignIn, Title: "Sign in with email and password", Phase: "end", Status: login.StatusFail, HTTPStatus: 302, Redirect: "https://sso.example.com/" + strings.Repeat("z", 200), Detail: strings.Repeat("word ", 80)},
		{Step: login.StepAPICookie, Title: "Your API with the cookie", Phase: "start", Status: login.StatusRunning},
	}
	res := &login.Result{Events: events, Findings: fs, Diagnosis: login.Diagnose(fs, login.DiagnoseContext{ServerSecret: []string{"auth.env"}})}
	states := []struct {
		name string
		set  func()
	}{
		{"idle", func() {}},
		{"form", func() { p.Update(press("enter")) }},
		{"running", func() {
			p.Update(press("esc"))
			p.running, p.expected = true, 8
			for _, e := range events {
				p.apply(e)
			}
		}},
		{"done", func() { p.finish(res) }},
	}
	for _, st := range states {
		st.set()
		for w := 40; w <= 200; w += 7 {
			for _, h := range []int{3, 8, 20, 50} {
				checkFits(t, st.name+" view", p.View(w, h), w, h)
			}
			checkFits(t, st.name+" summary", p.Summary(w, 4), w, 4)
		}
	}
	if s := insFlat(p.Summary(60, 3)); !strings.Contains(s, "✗ api-rejects-session") {
		t.Errorf("summary: %s", s)
	}
	if !strings.HasPrefix(p.Selection(), "Your API rejects a session") {
		t.Errorf("selection %q", p.Selection())
	}
}

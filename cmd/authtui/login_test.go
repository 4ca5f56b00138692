package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/testenv"
)

const (
	secretA  = "authtui-fixture-secret-A-0123456789abcdef"
	secretC  = "authtui-fixture-secret-C-00112233445566778899"
	secretZ  = "authtui-unknown-secret-Z-99887766554433221100"
	testPass = "correct horse battery staple"
)

// runEnv runs the CLI with the given environment variables visible to
// --password-env.
func runEnv(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	a := &app{
		stdin: strings.NewReader(""), stdout: &out, stderr: &errb, dir: t.TempDir(),
		getenv: func(k string) string { return env[k] },
	}
	code := a.main(args)
	return result{code, out.String(), errb.String()}
}

func writeEnvFile(t *testing.T, name string, kv ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		b.WriteString(kv[i] + "=" + kv[i+1] + "\n")
	}
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

type checkJSON struct {
	Findings []struct {
		ID, Severity, Message, Source string
	} `json:"findings"`
	Login *struct {
		ServerSecret []string `json:"server_secret"`
		Diagnosis    struct {
			Cause string `json:"cause"`
		} `json:"diagnosis"`
	} `json:"login"`
	Diagnosis struct {
		Verdict string `json:"verdict"`
		Cause   string `json:"cause"`
	} `json:"diagnosis"`
	Verdict struct {
		ID           string `json:"id"`
		Message      string `json:"message"`
		Alternatives []struct {
			ID, Message string
		} `json:"alternatives"`
		TellApart string `json:"tell_apart"`
	} `json:"verdict"`
	Healthy bool `json:"healthy"`
}

func (c checkJSON) has(id string) bool {
	for _, f := range c.Findings {
		if f.ID == id {
			return true
		}
	}
	return false
}

func (c checkJSON) ids() []string {
	var out []string
	for _, f := range c.Findings {
		out = append(out, f.ID)
	}
	return out
}

func runCheckJSON(t *testing.T, args ...string) (checkJSON, result) {
	t.Helper()
	r := runEnv(t, map[string]string{"TEST_PW": testPass}, append([]string{"check", "--json", "--timeout", "3s"}, args...)...)
	var out checkJSON
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("check output is not JSON (exit %d): %v\n%s\n%s", r.code, err, r.stdout, r.stderr)
	}
	for _, s := range []string{secretA, secretC, secretZ, testPass, batest.DefaultSecret} {
		if strings.Contains(r.stdout+r.stderr, s) {
			t.Fatalf("output contains a secret or the password")
		}
	}
	return out, r
}

// A stack like the one users debug: PostgreSQL, an auth service with a
// test user, and the env files of two services.
type stack struct {
	dsn      string
	auth     *batest.Server
	authEnv  string // holds the auth service's secret and the database
	otherEnv string // holds another service's secret
}

func newStack(t *testing.T, opts batest.Options) stack {
	t.Helper()
	dsn := pgtest.DSN(t)
	opts.DatabaseURL = dsn
	opts.Bearer = true
	srv := batest.Start(t, opts)
	batest.SignUp(t, srv.URL, "test@example.com", testPass)
	secret := opts.Secret
	if secret == "" {
		secret = secretA
	}
	return stack{
		dsn:      dsn,
		auth:     srv,
		authEnv:  writeEnvFile(t, "auth.env", "BETTER_AUTH_SECRET", secretA, "BETTER_AUTH_URL", srv.URL, "DATABASE_URL", dsn),
		otherEnv: writeEnvFile(t, "api.env", "BETTER_AUTH_SECRET", secretC, "BETTER_AUTH_URL", srv.URL),
	}
}

func creds() []string { return []string{"--email", "test@example.com", "--password-env", "TEST_PW"} }

func TestLoginIdentifiesServerSecret(t *testing.T) {
	s := newStack(t, batest.Options{Secret: secretA})
	out, r := runCheckJSON(t, append([]string{"--env-file", s.authEnv}, creds()...)...)
	if r.code != exitOK || !out.has("server-secret-identified") || !out.has("session-valid") {
		t.Fatalf("exit %d, findings %v", r.code, out.ids())
	}
	if out.Login == nil || len(out.Login.ServerSecret) != 1 || out.Login.ServerSecret[0] != s.authEnv {
		t.Errorf("server secret %+v", out.Login)
	}
}

func TestLoginServerSecretUnknown(t *testing.T) {
	s := newStack(t, batest.Options{Secret: secretZ})
	out, r := runCheckJSON(t, append([]string{"--env-file", s.authEnv, "--env-file", s.otherEnv}, creds()...)...)
	if r.code != exitFound || !out.has("server-secret-unknown") || out.Diagnosis.Cause != "server-secret-unknown" {
		t.Fatalf("exit %d, findings %v, cause %s", r.code, out.ids(), out.Diagnosis.Cause)
	}
}

func TestLoginServerSecretDefault(t *testing.T) {
	s := newStack(t, batest.Options{NoSecret: true})
	out, _ := runCheckJSON(t, append([]string{"--env-file", s.authEnv}, creds()...)...)
	if !out.has("server-secret-default") || out.Diagnosis.Cause != "server-secret-default" {
		t.Fatalf("findings %v, cause %s", out.ids(), out.Diagnosis.Cause)
	}
}

func TestLoginSignerDiffers(t *testing.T) {
	s := newStack(t, batest.Options{Secret: secretA})
	out, r := runCheckJSON(t, append([]string{"--env-file", s.authEnv, "--env-file", s.otherEnv}, creds()...)...)
	if r.code != exitFound || !out.has("cookie-signer-differs") || !out.has("secret-mismatch") || !out.has("server-secret-identified") {
		t.Fatalf("exit %d, findings %v", r.code, out.ids())
	}
}

func TestLoginOriginRejected(t *testing.T) {
	s := newStack(t, batest.Options{Secret: secretA})
	out, _ := runCheckJSON(t, append([]string{"--env-file", s.authEnv, "--origin", "https://evil.example.net"}, creds()...)...)
	if !out.has("login-origin-rejected") || out.Diagnosis.Cause != "login-origin-rejected" {
		t.Fatalf("findings %v", out.ids())
	}
}

func TestLoginWrongPassword(t *testing.T) {
	s := newStack(t, batest.Options{Secret: secretA})
	r := runEnv(t, map[string]string{"TEST_PW": "wrong password!"}, "login", "--json", "--env-file", s.authEnv, "--email", "test@example.com", "--password-env", "TEST_PW")
	if r.code != exitFound || !strings.Contains(r.stdout, `"login-credentials-rejected"`) {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
	// One JSON object per event, then the summary.
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) < 4 || !strings.Contains(lines[0], `"phase":"start"`) || !strings.Contains(lines[len(lines)-1], `"diagnosis"`) {
		t.Errorf("not an event stream:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout+r.stderr, "wrong password!") {
		t.Error("password echoed")
	}
}

func TestLoginStoppedServer(t *testing.T) {
	s := newStack(t, batest.Options{Secret: secretA})
	s.auth.Stop()
	out, r := runCheckJSON(t, append([]string{"--env-file", s.authEnv}, creds()...)...)
	if r.code != exitFound || !out.has("server-unreachable") || out.Diagnosis.Cause != "server-unreachable" {
		t.Fatalf("exit %d, findings %v", r.code, out.ids())
	}
}

func TestLoginHangingServer(t *testing.T) {
	env := writeEnvFile(t, "auth.env", "BETTER_AUTH_SECRET", secretA, "BETTER_AUTH_URL", "http://"+testenv.SilentListener(t))
	out, r := runCheckJSON(t, append([]string{"--env-file", env}, creds()...)...)
	if r.code != exitFound || !out.has("server-timeout") {
		t.Fatalf("exit %d, findings %v", r.code, out.ids())
	}
}

func TestReplayIdentifiesServerSecret(t *testing.T) {
	s := newStack(t, batest.Options{Secret: secretA})
	batest.SignIn(t, s.auth.URL, "test@example.com", testPass) // a real session to replay
	out, r := runCheckJSON(t, "--env-file", s.otherEnv, "--env-file", s.authEnv, "--replay-session", "latest")
	if !out.has("server-secret-identified") || out.Login == nil || len(out.Login.ServerSecret) != 1 || out.Login.ServerSecret[0] != s.authEnv {
		t.Fatalf("exit %d, findings %v, login %+v", r.code, out.ids(), out.Login)
	}
}

func TestAPIRejectsSession(t *testing.T) {
	s := newStack(t, batest.Options{Secret: secretA})
	api := batest.Start(t, batest.Options{Secret: secretC, DatabaseURL: s.dsn, Bearer: true})
	// With the API's env file, the configuration names the cause.
	out, r := runCheckJSON(t, append([]string{"--env-file", s.authEnv, "--env-file", s.otherEnv, "--api-url", api.URL + "/api/me"}, creds()...)...)
	if r.code != exitFound || !out.has("api-rejects-session") || out.Verdict.ID != "secret-mismatch" || out.Diagnosis.Cause != "secret-mismatch" {
		t.Fatalf("exit %d, findings %v, verdict %s", r.code, out.ids(), out.Verdict.ID)
	}
	// One run, one verdict: the login object's diagnosis is the same.
	if out.Login == nil || out.Login.Diagnosis.Cause != out.Verdict.ID {
		t.Errorf("login.diagnosis disagrees with the verdict %s: %+v", out.Verdict.ID, out.Login)
	}
	if !strings.Contains(out.Verdict.Message, s.authEnv) || !strings.Contains(out.Verdict.Message, s.otherEnv) {
		t.Errorf("verdict should name both env files: %s", out.Verdict.Message)
	}
	// Without it the symptom is the verdict, with what would decide.
	out, _ = runCheckJSON(t, append([]string{"--env-file", s.authEnv, "--api-url", api.URL + "/api/me"}, creds()...)...)
	if out.Verdict.ID != "api-rejects-session" || len(out.Verdict.Alternatives) == 0 || !strings.Contains(out.Verdict.TellApart, "--env-file") {
		t.Errorf("without the API's env file: %+v", out.Verdict)
	}
	// One root cause, one finding: the cookie and the bearer token both
	// fail, and api-rejects-session appears once.
	n := 0
	for _, id := range out.ids() {
		if id == "api-rejects-session" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("api-rejects-session %d times: %v", n, out.ids())
	}
	// The same API on the right secret accepts it.
	good := batest.Start(t, batest.Options{Secret: secretA, DatabaseURL: s.dsn, Bearer: true})
	out, r = runCheckJSON(t, append([]string{"--env-file", s.authEnv, "--api-url", good.URL + "/api/me"}, creds()...)...)
	if out.has("api-rejects-session") || !out.Healthy || out.Verdict.ID != "" || r.code != exitOK {
		t.Errorf("an API with the right secret: exit %d, %v, %+v", r.code, out.ids(), out.Verdict)
	}
}

// check opens the database once: its findings appear once, and the login
// flow reuses the connection.
func TestCheckReportsDatabaseOnce(t *testing.T) {
	s := newStack(t, batest.Options{Secret: secretA})
	empty := pgtest.DSN(t)
	out, _ := runCheckJSON(t, append([]string{"--env-file", s.authEnv, "--database-url", empty}, creds()...)...)
	n := 0
	for _, id := range out.ids() {
		if id == "db-schema-missing" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("db-schema-missing %d times: %v", n, out.ids())
	}
}

// loginStep is one finished step of check --json.
type loginStep struct {
	Step, Status, Title, Detail string
}

func checkSteps(t *testing.T, r result) map[string]loginStep {
	t.Helper()
	var out struct {
		Steps []loginStep `json:"steps"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("check --json: %v", err)
	}
	m := map[string]loginStep{}
	for _, s := range out.Steps {
		m[s.Step] = s
	}
	return m
}

// sessionRows lists the session tokens of the test user, sorted.
func sessionRows(t *testing.T, dsn string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT s.token FROM session s JOIN "user" u ON u.id = s."userId" WHERE u.email = 'test@example.com' ORDER BY s.token`)
	if err != nil {
		t.Fatal(err)
	}
	toks, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return toks
}

// check and login leave no live session of the test user behind: the
// session is signed out at the end (and the step says so), kept with
// --keep-session, and a replayed session (a real user's) is never touched.
func TestCheckSignsOutTheTestSession(t *testing.T) {
	s := newStack(t, batest.Options{Secret: secretA})
	before := sessionRows(t, s.dsn)

	out, r := runCheckJSON(t, append([]string{"--env-file", s.authEnv}, creds()...)...)
	if r.code != exitOK || !out.Healthy {
		t.Fatalf("exit %d, findings %v", r.code, out.ids())
	}
	if st := checkSteps(t, r)["sign-out"]; st.Status != "ok" || st.Title != "Sign out the test session" || !strings.Contains(st.Detail, "is gone") {
		t.Errorf("sign-out step %+v", st)
	}
	if after := sessionRows(t, s.dsn); len(after) != len(before) {
		t.Errorf("check left %d session row(s) of the test user, %d before", len(after), len(before))
	}

	// The text output says so too.
	text := runEnv(t, map[string]string{"TEST_PW": testPass}, append([]string{"login", "--timeout", "3s", "--env-file", s.authEnv}, creds()...)...)
	if !strings.Contains(text.stdout, "✓ Sign out the test session") {
		t.Errorf("login text output has no sign-out step:\n%s", text.stdout)
	}
	if after := sessionRows(t, s.dsn); len(after) != len(before) {
		t.Errorf("login left %d session row(s), %d before", len(after), len(before))
	}

	_, r = runCheckJSON(t, append([]string{"--env-file", s.authEnv, "--keep-session"}, creds()...)...)
	if st := checkSteps(t, r)["sign-out"]; st.Status != "skip" || !strings.Contains(st.Detail, "--keep-session") {
		t.Errorf("sign-out step with --keep-session %+v", st)
	}
	kept := sessionRows(t, s.dsn)
	if len(kept) != len(before)+1 {
		t.Errorf("--keep-session: %d session row(s), want %d", len(kept), len(before)+1)
	}

	// A replay uses a real user's session and leaves it as it was.
	batest.SignIn(t, s.auth.URL, "test@example.com", testPass)
	rows := sessionRows(t, s.dsn)
	out, r = runCheckJSON(t, "--env-file", s.authEnv, "--replay-session", "latest")
	if !out.has("server-secret-identified") {
		t.Fatalf("replay: exit %d, findings %v", r.code, out.ids())
	}
	if st := checkSteps(t, r)["sign-out"]; st.Status != "skip" || !strings.Contains(st.Detail, "real user's") {
		t.Errorf("sign-out step of a replay %+v", st)
	}
	if after := sessionRows(t, s.dsn); strings.Join(after, ",") != strings.Join(rows, ",") {
		t.Errorf("the replay changed the session rows: %d before, %d after", len(rows), len(after))
	}
}

// A database that is configured but down is not "no database configured".
func TestCheckUnreachableDatabaseSaysSo(t *testing.T) {
	s := newStack(t, batest.Options{Secret: secretA})
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	down := fmt.Sprintf("postgres://app@127.0.0.1:%d/app", port)
	out, r := runCheckJSON(t, append([]string{"--env-file", s.authEnv, "--database-url", down}, creds()...)...)
	if !out.has("db-unreachable") {
		t.Fatalf("findings %v", out.ids())
	}
	st := checkSteps(t, r)["database"]
	if st.Status != "skip" || strings.Contains(st.Detail, "no database configured") ||
		!strings.Contains(st.Detail, "configured (from --database-url) but unreachable") || !strings.Contains(st.Detail, "refused") {
		t.Errorf("row lookup step %+v", st)
	}
}

// A server with another basePath (/auth): without --base-path the
// sign-in finds nothing at /api/auth and the finding says which flag to
// pass; with it, the flow passes.
func TestLoginBasePath(t *testing.T) {
	srv := batest.Start(t, batest.Options{DatabaseURL: pgtest.DSN(t), ExtraEnv: []string{"FIXTURE_BASE_PATH=/auth"}})
	body := strings.NewReader(`{"email":"base-path@example.com","password":"` + testPass + `","name":"t"}`)
	req, _ := http.NewRequest("POST", srv.URL+"/auth/sign-up/email", body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", srv.URL)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("sign-up at /auth: %v %v", err, resp)
	}
	resp.Body.Close()
	env := writeEnvFile(t, "auth.env", "BETTER_AUTH_SECRET", batest.FixtureSecret, "BETTER_AUTH_URL", srv.URL)
	args := []string{"login", "--env-file", env, "--email", "base-path@example.com", "--password-env", "TEST_PW"}
	r := runEnv(t, map[string]string{"TEST_PW": testPass}, args...)
	if r.code != exitFound || !strings.Contains(r.stdout, "--base-path") {
		t.Errorf("without --base-path: exit %d\n%s", r.code, r.stdout)
	}
	r = runEnv(t, map[string]string{"TEST_PW": testPass}, append(args, "--base-path", "auth/")...)
	if r.code != exitOK {
		t.Errorf("with --base-path auth/: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

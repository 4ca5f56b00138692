package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/testenv"
)

// The fixture's fake secrets (testdata/projects/two-service).
const (
	projAuthSecret = "authtui-project-secret-AUTH-1111111111111111"
	projAPISecret  = "authtui-project-secret-API-2222222222222222"
)

// runProject runs the CLI in dir with env visible to --password-env,
// stdin given and taken for a terminal when tty is set.
func runProject(t *testing.T, dir string, env map[string]string, stdin string, tty bool, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	a := &app{
		stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, dir: dir, stdinIsTTY: tty,
		getenv: func(k string) string { return env[k] },
	}
	code := a.main(args)
	return result{code, out.String(), errb.String()}
}

// A new user at the root of a two-service project (an auth service under
// backend/auth-service, a Python API under api/, each with its own env
// files): `secrets` with no flag finds both, compares what each really
// runs with (.env.local wins over .env) and names the mismatch; `init`
// writes the project file; `check` with only the test credentials
// diagnoses the same mismatch against the real running auth service.
func TestTwoServiceProjectWithoutFlags(t *testing.T) {
	root := testenv.CopyProject(t, "two-service")
	dsn := pgtest.DSN(t)
	auth := batest.Start(t, batest.Options{Secret: projAuthSecret, DatabaseURL: dsn, Bearer: true})
	api := batest.Start(t, batest.Options{Secret: projAPISecret, DatabaseURL: dsn, Bearer: true})
	batest.SignUp(t, auth.URL, "test@example.com", testPass)
	// The services' env files point at the running servers, as a local
	// setup's would.
	os.WriteFile(filepath.Join(root, "backend/auth-service/.env"), []byte("BETTER_AUTH_SECRET=authtui-project-secret-AUTH-old-0000000000\nBETTER_AUTH_URL="+auth.URL+"\nDATABASE_URL="+dsn+"\n"), 0o600)
	os.WriteFile(filepath.Join(root, "api/.env"), []byte("BETTER_AUTH_SECRET="+projAPISecret+"\nBETTER_AUTH_URL="+auth.URL+"\nDATABASE_URL="+dsn+"\n"), 0o600)
	env := map[string]string{"TEST_PW": testPass}

	sec := runProject(t, root, env, "", false, "secrets")
	t.Logf("authtui secrets:\n%s", sec.stdout)
	for _, want := range []string{"auth-service  auth · node", "api  consumer · python", ".env.local > .env", "secret-mismatch",
		"auth-service (backend/auth-service/.env.local)", "api (api/.env)", "skipped     .env.example"} {
		if !strings.Contains(sec.stdout, want) {
			t.Errorf("secrets lacks %q", want)
		}
	}
	if sec.code != exitFound {
		t.Errorf("secrets exit %d", sec.code)
	}

	// init: shown and asked; "n" writes nothing; --yes writes.
	if r := runProject(t, root, env, "n\n", true, "init"); r.code != exitOK || !strings.Contains(r.stdout, "Not written") {
		t.Fatalf("init, answered n: %d %s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(root, "authtui.toml")); err == nil {
		t.Fatal("init wrote without a yes")
	}
	if r := runProject(t, root, env, "", false, "init"); r.code != exitUsage || !strings.Contains(r.stderr, "--yes") {
		t.Errorf("init without a terminal or --yes: %d %s", r.code, r.stderr)
	}
	if r := runProject(t, root, env, "y\n", true, "init"); r.code != exitOK || !strings.Contains(r.stdout, "Wrote") {
		t.Fatalf("init, answered y: %d %s%s", r.code, r.stdout, r.stderr)
	}
	if r := runProject(t, root, env, "", false, "init", "--yes"); r.code != exitUsage || !strings.Contains(r.stderr, "--force") {
		t.Errorf("init over an existing file: %d %s", r.code, r.stderr)
	}
	if r := runProject(t, filepath.Join(root, "api"), env, "", false, "init", "--yes"); r.code != exitUsage || !strings.Contains(r.stderr, "inside the project") {
		t.Errorf("init below a project file: %d %s", r.code, r.stderr)
	}

	chk := runProject(t, root, env, "", false, "check", "--timeout", "5s", "--email", "test@example.com", "--password-env", "TEST_PW")
	t.Logf("authtui check --email … --password-env …:\n%s", chk.stdout)
	if chk.code != exitFound || !strings.Contains(chk.stdout, "✗ secret-mismatch") || !strings.Contains(chk.stdout, "auth-service (backend/auth-service/.env.local)") {
		t.Errorf("check: exit %d\n%s%s", chk.code, chk.stdout, chk.stderr)
	}

	// The user fills in the endpoint init left commented out: check now
	// also tests the API, from a subdirectory, still without flags.
	toml := filepath.Join(root, "authtui.toml")
	data, _ := os.ReadFile(toml)
	filled := strings.Replace(string(data), `# api_url = "http://localhost:8000/me"`, `api_url = "`+api.URL+`/api/me"`, 1)
	if filled == string(data) {
		t.Fatalf("init left no api_url to fill:\n%s", data)
	}
	// A third backend, declared by hand, that shares the auth service's
	// secret: the flow presents the session to it too.
	billing := batest.Start(t, batest.Options{Secret: projAuthSecret, DatabaseURL: dsn, Bearer: true})
	filled += "\n[[services]]\nname = \"billing\"\nrole = \"api\"\ndir = \"billing\"\napi_url = \"" + billing.URL + "/api/me\"\n"

	os.WriteFile(toml, []byte(filled), 0o644)
	r := runProject(t, filepath.Join(root, "api"), env, "", false, "check", "--json", "--timeout", "5s", "--email", "test@example.com", "--password-env", "TEST_PW")
	var rep struct {
		Config struct {
			APIURL struct{ From string } `json:"api_url"`
		} `json:"config"`
		Verdict struct{ ID string } `json:"verdict"`
		Steps   []struct{ Step, Status string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("check --json: %v\n%s%s", err, r.stdout, r.stderr)
	}
	if rep.Verdict.ID != "secret-mismatch" || rep.Config.APIURL.From != "api_url in authtui.toml" {
		t.Errorf("check with the API: verdict %q, api_url from %q", rep.Verdict.ID, rep.Config.APIURL.From)
	}
	status := map[string]string{}
	for _, s := range rep.Steps {
		status[s.Step] = s.Status
	}
	if status["api-cookie"] != "fail" || status["api-cookie@billing"] != "ok" || status["api-bearer@billing"] != "ok" {
		t.Errorf("each declared API is tested: %v", status)
	}
	for _, secret := range []string{projAuthSecret, projAPISecret, testPass} {
		for _, out := range []string{sec.stdout, chk.stdout, r.stdout} {
			if strings.Contains(out, secret) {
				t.Fatal("a secret or the password in the output")
			}
		}
	}
}

// A project file that does not parse is a usage error naming the line;
// so is a --config that does not exist.
func TestProjectFileErrors(t *testing.T) {
	root := testenv.CopyProject(t, "two-service")
	os.WriteFile(filepath.Join(root, "authtui.toml"), []byte("[project]\ndatabase_url = postgres://u:hunter2@h/db\n"), 0o644)
	r := runProject(t, root, nil, "", false, "secrets")
	if r.code != exitUsage || !strings.Contains(r.stderr, "authtui.toml:2:") || strings.Contains(r.stderr, "hunter2") {
		t.Errorf("bad project file: %d %s", r.code, r.stderr)
	}
	r = runProject(t, t.TempDir(), nil, "", false, "secrets", "--config", "nope.toml")
	if r.code != exitUsage || !strings.Contains(r.stderr, "--config nope.toml") {
		t.Errorf("missing --config: %d %s", r.code, r.stderr)
	}
	r = runProject(t, t.TempDir(), nil, "", false, "secrets")
	if r.code != exitUsage || !strings.Contains(r.stderr, "authtui init") {
		t.Errorf("nothing found: %d %s", r.code, r.stderr)
	}
}

// A project whose development environment is fine but whose Preview
// holds Production's secret: check (development by default) must not
// call that healthy. The verdict names the crossed environment; the
// secrets matrix shows it.
func TestCheckWeighsOtherEnvironments(t *testing.T) {
	root := testenv.CopyProject(t, "next-monorepo")
	r := runProject(t, root, nil, "", false, "check", "--json")
	var rep struct {
		Verdict struct{ ID string } `json:"verdict"`
		Healthy bool                `json:"healthy"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("%v\n%s%s", err, r.stdout, r.stderr)
	}
	if r.code != exitFound || rep.Healthy || rep.Verdict.ID != "environment-crossed" {
		t.Errorf("check: exit %d, healthy %v, verdict %q", r.code, rep.Healthy, rep.Verdict.ID)
	}
	sec := runProject(t, root, nil, "", false, "secrets")
	for _, want := range []string{"SERVICE  PRODUCTION      PREVIEW         DEVELOPMENT", "✗ 3fbb80c56193", "environment-crossed"} {
		if !strings.Contains(sec.stdout, want) {
			t.Errorf("secrets lacks %q:\n%s", want, sec.stdout)
		}
	}
	if r := runProject(t, root, nil, "", false, "secrets", "--environment", "staging"); r.code != exitUsage {
		t.Errorf("--environment staging: exit %d", r.code)
	}
}

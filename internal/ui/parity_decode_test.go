package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/report"
)

// The cookie inspector and `authtui decode` show one report, built once by
// report.Decode: for every captured fixture and every input it holds (the
// browser's Cookie header, each exchange's Set-Cookie lines, the bearer
// token), every fact of the report is on the pane at 200 columns and in
// the CLI's text, both looking the tokens up in the same database; and
// neither shows a secret or a full token.
//
// Nothing is left out: the pane lays out all of report.Decode's blocks
// (candidate secrets, input, cookies, ignored input, findings). What the
// pane says only in its header (the paste's size and kind, which the CLI
// prints in its Input block) is checked to be in both as well.
func TestParityDecodeFixtures(t *testing.T) {
	bin := parityCLI(t)
	dsn := pgtest.DSN(t)
	pgtest.SeedBetterAuth(t, dsn, pgtest.SeedOptions{Users: 1, SessionsPerUser: 1})
	db, schema := openDB(t, dsn)

	paths, _ := filepath.Glob("../../testdata/fixtures/*.json")
	sort.Strings(paths)
	if len(paths) < 10 {
		t.Fatalf("%d fixtures (regenerate with `make fixtures`)", len(paths))
	}
	runs := 0
	for _, path := range paths {
		f := parityFixture(t, path)
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		t.Run(name, func(t *testing.T) {
			// A short directory: the CLI wraps its text to 80 columns and
			// breaks a word longer than a line, which t.TempDir's paths
			// (70 characters and more) would be.
			dir, err := os.MkdirTemp("", "parity")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(dir) })
			files := []string{parityEnvFile(t, dir, "server.env", f.Env)}
			if f.IssuerEnv != nil {
				files = append(files, parityEnvFile(t, dir, "issuer.env", f.IssuerEnv))
			}
			// Another service on another secret: cookie-signer-differs.
			files = append(files, parityEnvFile(t, dir, "api.env", map[string]string{"BETTER_AUTH_SECRET": insFixtureSecretC}))

			secrets := msgSecrets(t, files)
			p := newInspectorPane(&Config{Timeout: 20 * time.Second}, newStyles())
			p.SetFocused(true)
			p.Update(secrets)
			p.Update(DBReadyMsg{DB: db, Schema: schema})

			for _, in := range f.inputs() {
				runs++
				insPaste(t, p, in)
				if p.result == nil {
					t.Fatalf("%.40q… not decoded", in)
				}
				// Tall enough for the whole body: the facts are compared,
				// not the scrolling.
				h := max(120, len(p.header())+len(p.body(200))+1)
				pane := insFlat(p.View(200, h))
				cli := parityRun(t, bin, dsn, files, in)

				// The report as the pane built it, rebuilt here from the
				// same decode and the same database.
				rep, sum := probe.DecodeInput(in, probe.DecodeOptions{
					Candidates: secrets.Report.Candidates, BaseURL: secrets.BaseURL, Now: time.Now(),
				})
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				if err := rep.LookupTokens(ctx, tokenLooker(db, schema)); err != nil {
					t.Fatal(err)
				}
				cancel()
				rep.Database = report.LookupChecked
				facts := report.Facts(report.Decode(rep, report.DecodeOptions{}))
				if len(facts) < 8 {
					t.Fatalf("only %d facts: %q", len(facts), facts)
				}
				head := report.ByteSize(len(in)) + " · " + report.InputKind(sum)
				for _, fact := range append(facts, head) {
					fact = insFlat(fact)
					if !strings.Contains(pane, fact) {
						t.Errorf("the pane lacks %q:\n%s", fact, pane)
					}
					if !strings.Contains(cli, fact) {
						t.Errorf("the CLI lacks %q:\n%s", fact, cli)
					}
				}
				for _, s := range f.secrets() {
					if strings.Contains(pane, s) || strings.Contains(cli, s) {
						t.Fatalf("a secret (%.10s…) is shown:\npane: %s\ncli: %s", s, pane, cli)
					}
				}
				for _, v := range f.tokens(in) {
					if strings.Contains(pane, v) || strings.Contains(cli, v) {
						t.Fatalf("a full token or signature (%.8s…) is shown", v)
					}
				}
			}
		})
	}
	if runs < 40 {
		t.Fatalf("only %d inputs compared", runs)
	}
}

type parityFix struct {
	Env          map[string]string `json:"env"`
	IssuerEnv    map[string]string `json:"issuer_env"`
	SessionToken string            `json:"session_token"`
	CookieHeader string            `json:"cookie_header"`
	Exchanges    []struct {
		SetCookie    []string `json:"set_cookie"`
		SetAuthToken *string  `json:"set_auth_token"`
	} `json:"exchanges"`
}

func parityFixture(t *testing.T, path string) parityFix {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f parityFix
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return f
}

// inputs are what a user would paste of the capture.
func (f parityFix) inputs() []string {
	var out []string
	if f.CookieHeader != "" {
		out = append(out, f.CookieHeader)
	}
	for _, e := range f.Exchanges {
		if len(e.SetCookie) > 0 {
			out = append(out, "Set-Cookie: "+strings.Join(e.SetCookie, "\nSet-Cookie: "))
		}
		if e.SetAuthToken != nil {
			out = append(out, "Authorization: Bearer "+*e.SetAuthToken)
		}
	}
	return out
}

// secrets are every secret the env files hold, and BetterAuth's default.
func (f parityFix) secrets() []string {
	out := []string{"better-auth-secret-12345678901234567890", insFixtureSecretC}
	for _, env := range []map[string]string{f.Env, f.IssuerEnv} {
		if v := strings.TrimSpace(env["BETTER_AUTH_SECRET"]); v != "" {
			out = append(out, v)
		}
		for _, part := range strings.Split(env["BETTER_AUTH_SECRETS"], ",") {
			if _, v, ok := strings.Cut(part, ":"); ok && strings.TrimSpace(v) != "" {
				out = append(out, strings.TrimSpace(v))
			}
		}
	}
	return out
}

// tokens are the session tokens and signatures in the input, whole.
func (f parityFix) tokens(in string) []string {
	var out []string
	if f.SessionToken != "" {
		out = append(out, f.SessionToken)
	}
	for _, field := range strings.FieldsFunc(in, func(r rune) bool { return strings.ContainsRune(" ;=\n", r) }) {
		if tok, sig, ok := strings.Cut(field, "."); ok && len(tok) == 32 && len(sig) >= 43 {
			out = append(out, tok, sig)
		}
	}
	return out
}

// parityEnvFile writes env as an env file, each value quoted so that a
// secret with white space (fixture secret-whitespace) reads as captured.
func parityEnvFile(t *testing.T, dir, name string, env map[string]string) string {
	t.Helper()
	var b strings.Builder
	for k, v := range env {
		b.WriteString(k + `="` + strings.ReplaceAll(v, "\n", `\n`) + "\"\n")
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// msgSecrets is the secrets pane's broadcast for the env files, as
// insSecrets builds it, without failing on findings (a weak secret is
// one).
func msgSecrets(t *testing.T, files []string) SecretsLoadedMsg {
	t.Helper()
	sources, _ := probe.LoadSources(probe.SourceOptions{EnvFiles: files})
	msg := SecretsLoadedMsg{Sources: sources, Report: probe.CheckSecrets(sources)}
	for _, s := range sources {
		if _, u, ok := s.FirstSet(probe.BaseURLVars); ok && msg.BaseURL == "" {
			msg.BaseURL = u
		}
	}
	return msg
}

// parityCLI builds authtui once for the test.
func parityCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "authtui")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/authtui").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// parityRun runs `authtui decode --no-color` on in, in an empty directory
// with an environment that sets no secret and no database, and returns
// its text, flattened.
func parityRun(t *testing.T, bin, dsn string, files []string, in string) string {
	t.Helper()
	args := []string{"decode", "--no-color", "--database-url", dsn}
	for _, f := range files {
		args = append(args, "--env-file", f)
	}
	cmd := exec.Command(bin, append(args, "-")...)
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + cmd.Dir}
	if tz, ok := os.LookupEnv("TZ"); ok {
		cmd.Env = append(cmd.Env, "TZ="+tz) // times are shown local, as the pane shows them
	}
	cmd.Stdin = strings.NewReader(in)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() > 1) {
		t.Fatalf("authtui decode: %v\n%s%s", err, out.String(), errb.String())
	}
	return insFlat(out.String())
}

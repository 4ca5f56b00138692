package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const fixtureDir = "../../testdata/fixtures"

// The fake secrets the fixtures were captured with (testdata/betterauth/cases.mjs).
var fixtureSecrets = []string{
	"authtui-fixture-secret-A-0123456789abcdef",
	"authtui-fixture-secret-B-fedcba9876543210",
	"authtui-fixture-secret-C-00112233445566778899",
	"better-auth-secret-12345678901234567890",
}

type result struct {
	code           int
	stdout, stderr string
}

// run executes the CLI in-process, with stdin as given (not a terminal).
func run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return runIn(t, t.TempDir(), stdin, args...)
}

// runIn is run with dir as the working directory (where .env and
// .env.local are looked for).
func runIn(t *testing.T, dir, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	a := &app{
		stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb,
		environ: nil, dir: dir, getenv: func(string) string { return "" },
		stdinIsTTY: stdin == "",
	}
	code := a.main(args)
	return result{code, out.String(), errb.String()}
}

type fixture struct {
	CookieHeader string `json:"cookie_header"`
	SessionToken string `json:"session_token"`
	Exchanges    []struct {
		SetCookie    []string `json:"set_cookie"`
		SetAuthToken *string  `json:"set_auth_token"`
	} `json:"exchanges"`
}

func loadFixtures(t *testing.T) map[string]fixture {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(fixtureDir, "*.json"))
	if len(paths) == 0 {
		t.Fatal("no fixtures")
	}
	out := map[string]fixture{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var f fixture
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(p), ".json")] = f
	}
	return out
}

// envFiles writes env files covering every way a secret can be set.
func envFiles(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"auth.env":     "BETTER_AUTH_SECRET=" + fixtureSecrets[0] + "\nBETTER_AUTH_URL=http://localhost:3000\n",
		"api.env":      "BETTER_AUTH_SECRET=\"" + fixtureSecrets[2] + "\\n\"\nAUTH_SECRET=" + fixtureSecrets[1] + "\n",
		"rotation.env": "BETTER_AUTH_SECRETS=\"2:" + fixtureSecrets[1] + ",1:" + fixtureSecrets[0] + "\"\nBETTER_AUTH_SECRET=" + fixtureSecrets[0] + "\n",
		"default.env":  "BETTER_AUTH_SECRET=" + fixtureSecrets[3] + "\n",
		"broken.env":   "BETTER_AUTH_SECRET='" + fixtureSecrets[1] + "\n",
	}
	var args []string
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--env-file", p)
	}
	return args
}

// No command, in any output format, prints a secret: every command runs
// over every fixture with env files that hold the secrets in every form.
func TestNoSecretInAnyOutput(t *testing.T) {
	env := envFiles(t)
	var runs []result
	for _, format := range [][]string{nil, {"--json"}} {
		runs = append(runs, run(t, "", append(append([]string{"secrets"}, env...), format...)...))
		for _, f := range loadFixtures(t) {
			var inputs []string
			if f.CookieHeader != "" {
				inputs = append(inputs, f.CookieHeader)
			}
			for _, e := range f.Exchanges {
				if len(e.SetCookie) > 0 {
					inputs = append(inputs, "Set-Cookie: "+strings.Join(e.SetCookie, "\nSet-Cookie: "))
				}
				if e.SetAuthToken != nil {
					inputs = append(inputs, "Authorization: Bearer "+*e.SetAuthToken)
				}
			}
			for _, in := range inputs {
				args := append(append([]string{"decode", "--origin", "https://app.example.net"}, env...), format...)
				runs = append(runs, run(t, in, append(args, "-")...))
			}
		}
	}
	runs = append(runs, run(t, "", "decode", "--help"), run(t, "", "secrets", "--help"), run(t, "", "--help"))
	for i, r := range runs {
		for _, s := range fixtureSecrets {
			for _, out := range []string{r.stdout, r.stderr} {
				if strings.Contains(out, s) {
					t.Fatalf("run %d printed secret %.12s…:\n%s", i, s, out)
				}
			}
		}
	}
	if len(runs) < 40 {
		t.Fatalf("only %d runs: fixtures missing?", len(runs))
	}
}

func TestDecodeNamesSignerAcrossEnvFiles(t *testing.T) {
	fx := loadFixtures(t)["plain"]
	dir := t.TempDir()
	a := filepath.Join(dir, "a.env")
	b := filepath.Join(dir, "b.env")
	os.WriteFile(a, []byte("BETTER_AUTH_SECRET="+fixtureSecrets[0]+"\n"), 0o600)
	os.WriteFile(b, []byte("BETTER_AUTH_SECRET="+fixtureSecrets[2]+"\n"), 0o600)

	r := run(t, "Cookie: "+fx.CookieHeader, "decode", "--env-file", a, "--env-file", b, "--json", "-")
	if r.code != exitFound {
		t.Fatalf("exit %d, want 1 (signer differs is an error); stderr %s", r.code, r.stderr)
	}
	var out struct {
		Cookies []struct {
			Name, Kind string
			VerifiedBy []string `json:"verified_by"`
		} `json:"cookies"`
		Findings []struct{ ID, Severity, Message, Source string } `json:"findings"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("json: %v\n%s", err, r.stdout)
	}
	if len(out.Cookies) != 1 || out.Cookies[0].Kind != "session_token" || len(out.Cookies[0].VerifiedBy) != 1 || out.Cookies[0].VerifiedBy[0] != a {
		t.Fatalf("cookies: %+v", out.Cookies)
	}
	found := false
	for _, f := range out.Findings {
		if f.ID == "cookie-signer-differs" && f.Severity == "error" && strings.Contains(f.Message, b) {
			found = true
		}
	}
	if !found {
		t.Errorf("no cookie-signer-differs naming %s: %+v", b, out.Findings)
	}

	// The text form says the same in words (wrapped to 80 columns: a
	// long temporary path may start a line).
	r = run(t, fx.CookieHeader, "decode", "--env-file", a, "--env-file", b)
	if text := strings.Join(strings.Fields(r.stdout), " "); !strings.Contains(text, "✓ valid, verified by "+a+" (current)") || !strings.Contains(text, "cookie-signer-differs") {
		t.Errorf("text output:\n%s", r.stdout)
	}
}

func TestSecretsJSONAndExitCodes(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.env")
	os.WriteFile(good, []byte("BETTER_AUTH_SECRET="+fixtureSecrets[0]+"\nBETTER_AUTH_URL=http://localhost:3000\n"), 0o600)

	r := run(t, "", "secrets", "--env-file", good, "--json")
	if r.code != exitOK {
		t.Fatalf("one clean source: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var out struct {
		Sources  []map[string]any `json:"sources"`
		Findings []any            `json:"findings"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"label", "variable", "present", "length", "fingerprint"} {
		if _, ok := out.Sources[0][key]; !ok {
			t.Errorf("source lacks %q", key)
		}
	}
	if out.Findings == nil {
		t.Error("findings must be [] not null")
	}

	// A file named on the command line that cannot be read is a usage
	// error (TestNamedFileUnreadableIsUsageError); a default file found
	// by looking is a finding.
	r = run(t, "", "secrets", "--env-file", filepath.Join(dir, "nope.env"))
	if r.code != exitUsage || !strings.Contains(r.stderr, "nope.env: no such file") || r.stdout != "" {
		t.Errorf("missing env file: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	os.Mkdir(filepath.Join(dir, ".env"), 0o700)
	r = runIn(t, dir, "", "secrets")
	if r.code != exitFound || !strings.Contains(r.stdout, "env-file-unreadable") {
		t.Errorf("unreadable default .env: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		code  int
	}{
		{"unknown flag", "", []string{"secrets", "--bogus"}, exitUsage},
		{"unknown command", "", []string{"bogus"}, exitUsage},
		{"decode with nothing on a terminal", "", []string{"decode"}, exitUsage},
		{"decode unreadable file", "", []string{"decode", "@/nonexistent/cookies.txt"}, exitUsage},
		{"two inputs", "", []string{"decode", "a", "b"}, exitUsage},
		{"help", "", []string{"decode", "--help"}, exitOK},
		{"version", "", []string{"--version"}, exitOK},
		{"no BetterAuth cookie", "theme=dark", []string{"decode"}, exitFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, tc.stdin, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tc.code, r.stdout, r.stderr)
			}
			if tc.code == exitUsage && r.stderr == "" {
				t.Error("a usage error must say why on stderr")
			}
		})
	}
}

func TestFlagsAfterInput(t *testing.T) {
	fx := loadFixtures(t)["plain"]
	r := run(t, "", "decode", fx.CookieHeader, "--json")
	if r.code == exitUsage || !strings.HasPrefix(strings.TrimSpace(r.stdout), "{") {
		t.Fatalf("flags after the input: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// Pasted names and values reach the terminal only as inert text.
func TestDecodeTextEscapesControlSequences(t *testing.T) {
	r := run(t, "", "decode", "better-auth.session_token\x1b]0;pwned\x07=abc.def")
	if strings.ContainsAny(r.stdout, "\x1b\x07") {
		t.Fatalf("raw control characters in output: %q", r.stdout)
	}
}

// Every command's --help (and -h) prints its text once, on stdout; a
// usage error prints no help at all, only the error and a pointer to
// --help on stderr.
func TestHelpPrintedOnce(t *testing.T) {
	var names []string
	for _, c := range commands() {
		if c.name != "version" {
			names = append(names, c.name)
		}
	}
	for _, name := range names {
		for _, h := range []string{"--help", "-h"} {
			r := run(t, "", name, h)
			if r.code != exitOK || strings.Count(r.stdout, "Usage: authtui "+name) != 1 || strings.Count(r.stdout, "Flags:") != 1 || r.stderr != "" {
				t.Errorf("%s %s: exit %d, %d copies of the text\n%s%s", name, h, r.code, strings.Count(r.stdout, "Flags:"), r.stdout, r.stderr)
			}
		}
		r := run(t, "", name, "--bogus")
		if r.code != exitUsage || r.stdout != "" || strings.Count(r.stderr, "bogus") != 1 || !strings.Contains(r.stderr, "authtui "+name+" --help") {
			t.Errorf("%s --bogus: exit %d\nstdout: %s\nstderr: %s", name, r.code, r.stdout, r.stderr)
		}
	}
	// The console's flags, and help for a command by name.
	if r := run(t, "", "--no-color", "--help"); r.code != exitOK || strings.Count(r.stdout, "Flags:") != 1 {
		t.Errorf("console --help: exit %d\n%s", r.code, r.stdout)
	}
	if r := run(t, "", "help", "sessions"); r.code != exitOK || strings.Count(r.stdout, "Flags:") != 1 {
		t.Errorf("help sessions: exit %d\n%s", r.code, r.stdout)
	}
}

// A file named on the command line that cannot be read (missing, a
// directory, a FIFO that would block, a device, too large) is a usage
// error for every command, the console included: exit 2 at once, before
// any work, with the reason on stderr.
func TestNamedFileUnreadableIsUsageError(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.env")
	os.WriteFile(good, []byte("BETTER_AUTH_SECRET="+fixtureSecrets[0]+"\n"), 0o600)
	fifo := filepath.Join(dir, "fifo.env")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.env")
	os.WriteFile(big, bytes.Repeat([]byte("#\n"), 1<<20), 0o600)
	bad := map[string]string{
		filepath.Join(dir, "missing.env"): "no such file",
		dir:                               "is a directory",
		fifo:                              "is a named pipe (FIFO)",
		os.DevNull:                        "is a device",
		big:                               "larger than",
	}
	for _, cmd := range [][]string{
		{"secrets"}, {"decode", "x=y"}, {"check"}, {"login", "--email", "a@example.com"},
		{"sessions"}, {"db"}, {}, // the console
	} {
		for path, why := range bad {
			args := append(append([]string{}, cmd...), "--env-file", good, "--env-file", path)
			done := make(chan result, 1)
			go func() { done <- run(t, "", args...) }()
			var r result
			select {
			case r = <-done:
			case <-time.After(time.Minute): // a hang guard, not a speed goal
				t.Fatalf("%v hangs", args)
			}
			if r.code != exitUsage || !strings.Contains(r.stderr, "--env-file "+path+": "+why) || r.stdout != "" {
				t.Errorf("%v: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
			}
		}
	}
	// A relative path is read from the working directory, as the sources are.
	if r := runIn(t, dir, "", "secrets", "--env-file", "good.env"); r.code != exitOK {
		t.Errorf("relative --env-file: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// A default .env that cannot be read is a finding (exit 1), whatever
// kind of file it is; a FIFO there does not block.
func TestDiscoveredFileUnreadableIsFinding(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, ".env"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, ".env.local"), []byte("BETTER_AUTH_SECRET="+fixtureSecrets[0]+"\nBETTER_AUTH_URL=http://localhost:3000\n"), 0o600)
	for _, cmd := range [][]string{{"secrets"}, {"check"}, {"secrets", "--json"}} {
		done := make(chan result, 1)
		go func() { done <- runIn(t, dir, "", cmd...) }()
		var r result
		select {
		case r = <-done:
		case <-time.After(time.Minute): // a hang guard, not a speed goal
			t.Fatalf("%v hangs on a FIFO .env", cmd)
		}
		if r.code != exitFound || !strings.Contains(r.stdout, "env-file-unreadable") || !strings.Contains(r.stdout, "named pipe") {
			t.Errorf("%v: exit %d\n%s%s", cmd, r.code, r.stdout, r.stderr)
		}
	}
}

// An env file saved with a UTF-8 byte order mark reads as without it.
func TestEnvFileWithBOM(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "bom.env")
	os.WriteFile(p, []byte("\ufeffBETTER_AUTH_SECRET="+fixtureSecrets[0]+"\nBETTER_AUTH_URL=http://localhost:3000\n"), 0o600)
	r := run(t, "", "secrets", "--env-file", p)
	if r.code != exitOK || strings.Contains(r.stdout, "unreadable") || !strings.Contains(r.stdout, "BETTER_AUTH_SECRET") {
		t.Errorf("BOM: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// --timeout must be positive for every command that takes it; db
// --pings is bounded by the latency window.
func TestTimeoutAndPingsBounds(t *testing.T) {
	for _, cmd := range [][]string{
		{"decode", "x=y"}, {"check"}, {"login", "--email", "a@example.com"}, {"sessions"}, {"db"}, {},
	} {
		for _, v := range []string{"0", "0s", "-1s", "-5m", "soon"} {
			args := append(append([]string{}, cmd...), "--timeout", v)
			r := run(t, "", args...)
			if r.code != exitUsage || !strings.Contains(r.stderr, "-timeout") || r.stdout != "" {
				t.Errorf("%v: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
			}
		}
	}
	for _, v := range []string{"0", "-1", "65", "1000000000"} {
		r := run(t, "", "db", "--database-url", "postgres://u@127.0.0.1:1/x", "--pings", v)
		if r.code != exitUsage || !strings.Contains(r.stderr, "--pings must be between 1 and 64") {
			t.Errorf("--pings %s: exit %d\n%s%s", v, r.code, r.stdout, r.stderr)
		}
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/testenv"
)

// tmuxSession drives the real binary in a detached tmux session, as a
// person at an 120×40 terminal would.
type tmuxSession struct {
	t    *testing.T
	name string
	sock string
}

func (s *tmuxSession) tmux(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", s.sock}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (s *tmuxSession) screen() string { return s.tmux("capture-pane", "-p", "-t", s.name) }

// waitFor polls the screen until every want is on it; it never sleeps a
// fixed time and then asserts.
func (s *tmuxSession) waitFor(timeout time.Duration, wants ...string) string {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		scr := s.screen()
		missing := ""
		for _, w := range wants {
			if !strings.Contains(scr, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return scr
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("screen never showed %q within %s:\n%s", missing, timeout, scr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *tmuxSession) keys(keys ...string) {
	s.tmux(append([]string{"send-keys", "-t", s.name}, keys...)...)
}

// TestConsoleEndToEnd starts the console on a real stack (PostgreSQL, an
// auth service and an API service on another secret), waits for the panes
// to fill, pastes a cookie, runs the login flow, reads the diagnosis and
// quits.
func TestConsoleEndToEnd(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		testenv.Unavailable(t, "tmux not found: install tmux to run the console end-to-end test")
	}
	dsn := pgtest.DSN(t)
	auth := batest.Start(t, batest.Options{Secret: secretA, DatabaseURL: dsn, Bearer: true})
	api := batest.Start(t, batest.Options{Secret: secretC, DatabaseURL: dsn, Bearer: true})
	batest.SignUp(t, auth.URL, "demo@example.com", testPass)
	sess := batest.SignIn(t, auth.URL, "demo@example.com", testPass)

	dir := t.TempDir()
	authEnv := writeEnvFile(t, "auth.env", "BETTER_AUTH_SECRET", secretA, "BETTER_AUTH_URL", auth.URL, "DATABASE_URL", dsn)
	apiEnv := writeEnvFile(t, "api.env", "BETTER_AUTH_SECRET", secretC, "BETTER_AUTH_URL", auth.URL)
	bin := filepath.Join(dir, "authtui")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	logFile := filepath.Join(dir, "console.log")
	cmdline := fmt.Sprintf("AUTHTUI_E2E_PW=%q %s --env-file %s --env-file %s --api-url %s --email demo@example.com --password-env AUTHTUI_E2E_PW 2>%s",
		testPass, bin, authEnv, apiEnv, api.URL+"/api/me", logFile)

	s := &tmuxSession{t: t, name: "authtui-e2e", sock: filepath.Join(dir, "tmux.sock")}
	s.tmux("new-session", "-d", "-s", s.name, "-x", "120", "-y", "40", "-e", "TERM=xterm-256color", "sh", "-c", cmdline+"; echo EXITED $?; sleep 30")
	t.Cleanup(func() { exec.Command("tmux", "-S", s.sock, "kill-server").Run() })

	// The panes fill from the env files and the database.
	s.waitFor(20*time.Second, "2 different secrets", "✓ connected", "2 sessions, 2 active")

	// Paste the browser's cookie into the inspector (bracketed paste).
	s.keys("4")
	s.tmux("set-buffer", "-b", "cookie", "Cookie: "+sess.CookieHeader)
	s.tmux("paste-buffer", "-p", "-b", "cookie", "-t", s.name)
	scr := s.waitFor(15*time.Second, "cookie-signer-differs", "session-valid")
	if !strings.Contains(scr, authEnv) {
		t.Errorf("the inspector should name %s as the signer:\n%s", authEnv, scr)
	}

	// Run the login flow and read the diagnosis.
	s.keys("5")
	s.keys("Enter")
	s.waitFor(30*time.Second, "Diagnosis", "secret-mismatch")
	s.keys("z")
	scr = s.waitFor(5*time.Second, "Your API answers 401")

	// The console's header shows the verdict `authtui check` gives for the
	// same inputs.
	r := runEnv(t, map[string]string{"AUTHTUI_E2E_PW": testPass}, "check", "--json", "--env-file", authEnv, "--env-file", apiEnv,
		"--api-url", api.URL+"/api/me", "--email", "demo@example.com", "--password-env", "AUTHTUI_E2E_PW")
	var cli struct {
		Verdict struct{ ID, Message string } `json:"verdict"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &cli); err != nil || cli.Verdict.ID == "" {
		t.Fatalf("check --json: %v\n%s", err, r.stdout)
	}
	header := strings.SplitN(scr, "\n", 3)
	if len(header) < 2 || !strings.Contains(header[1], "✗ "+cli.Verdict.ID) {
		t.Errorf("the console's header does not show check's verdict %s:\n%s", cli.Verdict.ID, scr)
	}

	for _, secret := range []string{secretA, secretC, testPass} {
		if strings.Contains(scr, secret) {
			t.Fatal("a secret or the password is on screen")
		}
	}

	// Quit cleanly: the program ends and the shell reports exit 0.
	s.keys("q")
	s.waitFor(10*time.Second, "EXITED 0")
	if data, _ := os.ReadFile(logFile); len(strings.TrimSpace(string(data))) > 0 {
		t.Errorf("the console wrote to stderr: %s", data)
	}
}

var colourSGR = regexp.MustCompile(`\x1b\[(?:[0-9]*;)*(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])[;m]`)

// NO_COLOR (and --no-color) take every colour out of the console, keeping
// its marks readable.
func TestConsoleNoColor(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		testenv.Unavailable(t, "tmux not found: install tmux to run the console end-to-end test")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "authtui")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	env := writeEnvFile(t, "auth.env", "BETTER_AUTH_SECRET", secretA)
	for i, cmdline := range []string{
		fmt.Sprintf("NO_COLOR=1 %s --env-file %s", bin, env),
		fmt.Sprintf("%s --no-color --env-file %s", bin, env),
	} {
		s := &tmuxSession{t: t, name: fmt.Sprintf("authtui-nocolor-%d", i), sock: filepath.Join(dir, fmt.Sprintf("tmux%d.sock", i))}
		s.tmux("new-session", "-d", "-s", s.name, "-x", "100", "-y", "30", "-e", "TERM=xterm-256color", "sh", "-c", cmdline+"; sleep 30")
		t.Cleanup(func() { exec.Command("tmux", "-S", s.sock, "kill-server").Run() })
		s.waitFor(10*time.Second, "1 Secrets", "base-url-missing")
		// tmux's own capture emits 39/49 (default colours); any other
		// foreground or background parameter is a colour.
		if c := colourSGR.FindString(s.tmux("capture-pane", "-p", "-e", "-t", s.name)); c != "" {
			t.Errorf("%s: colour sequence %q on screen", cmdline, c)
		}
		s.keys("q")
	}
}

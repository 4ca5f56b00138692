package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authtui/authtui/internal/probe/browser"
	"github.com/authtui/authtui/internal/testenv"
)

// The demo's two documented switches, run as a user runs them
// (DEMO_BROWSER=1 / DEMO_SOCIAL=1 scripts/demo.sh, no terminal): each
// brings up its broken stack, names the cause, and tears it down.
func TestDemoSwitches(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		testenv.Unavailable(t, "node not found (make deps installs it)")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "authtui")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cases := []struct {
		env, want, reason string
		needsChrome       bool
	}{
		{"DEMO_BROWSER=1", "browser-cookie-refused", "SameSiteLax", true},
		{"DEMO_SOCIAL=1", "oauth-state-mismatch", "state_mismatch", false},
	}
	for _, c := range cases {
		t.Run(c.env, func(t *testing.T) {
			if _, err := browser.Find(""); c.needsChrome && err != nil {
				testenv.Unavailable(t, err.Error()+" (make deps installs chromium)")
			}
			// As root PostgreSQL runs as postgres, which must traverse
			// the demo's directory: not a t.TempDir (0700 parents).
			tmp, err := os.MkdirTemp("", "authtui-demo-test-")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(tmp) })
			if err := os.Chmod(tmp, 0o711); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("bash", "../../scripts/demo.sh")
			cmd.Env = append(os.Environ(), c.env, "AUTHTUI_BIN="+bin, "TMPDIR="+tmp, "NO_COLOR=1")
			began := time.Now()
			out, err := cmd.CombinedOutput()
			t.Logf("%s scripts/demo.sh: %v in %s\n%s", c.env, err, time.Since(began).Round(time.Millisecond), out)
			if err != nil || !strings.Contains(string(out), c.want) || !strings.Contains(string(out), c.reason) {
				t.Fatalf("%s: %v", c.env, err)
			}
			if left, _ := filepath.Glob(filepath.Join(tmp, "authtui-demo.*")); len(left) != 0 {
				t.Errorf("left behind: %v", left)
			}
			if strings.Contains(string(out), "authtui-demo-secret-A") {
				t.Error("the demo's secret in its output")
			}
		})
	}
}

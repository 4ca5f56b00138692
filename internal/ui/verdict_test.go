package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/check"
	"github.com/authtui/authtui/internal/probe/login"
)

// The console's header shows the verdict `authtui check` gives for the
// same inputs: both come from the check pipeline. A real stack: the auth
// service on one secret, the API on another, both env files given.
func TestConsoleVerdictEqualsCheck(t *testing.T) {
	dsn := pgtest.DSN(t)
	const otherSecret = "authtui-fixture-secret-C-api-0123456789abcdef"
	auth := batest.Start(t, batest.Options{DatabaseURL: dsn, Bearer: true})
	api := batest.Start(t, batest.Options{Secret: otherSecret, DatabaseURL: dsn, Bearer: true})
	batest.SignUp(t, auth.URL, "ada@example.com", lfPassword)

	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	files := []string{
		write("auth.env", fmt.Sprintf("BETTER_AUTH_SECRET=%s\nBETTER_AUTH_URL=%s\nDATABASE_URL=%s\n", batest.FixtureSecret, auth.URL, dsn)),
		write("api.env", fmt.Sprintf("BETTER_AUTH_SECRET=%s\nBETTER_AUTH_URL=%s\n", otherSecret, auth.URL)),
	}
	apiURL := api.URL + "/api/me"

	// What `authtui check` decides.
	sources, loadFs := probe.LoadSources(probe.SourceOptions{EnvFiles: files})
	cfg := probe.Resolve(probe.Flags{APIURL: apiURL, Timeout: 10 * time.Second}, sources, nil)
	cli := check.Run(context.Background(), check.Options{Config: cfg, LoadFindings: loadFs, Email: "ada@example.com", Password: lfPassword}, nil)
	if db := cli.DB(); db != nil {
		db.Close()
	}
	if cli.Verdict.ID == "" {
		t.Fatalf("check found nothing: %+v", cli.Verdict)
	}

	// What the console decides, after the panes filled and a login run.
	m := New(Config{EnvFiles: files, Timeout: 10 * time.Second, Login: login.Options{APIURL: apiURL, Email: "ada@example.com", Password: lfPassword}})
	m.Update(tea.WindowSizeMsg{Width: 140, Height: 40})
	update := func(msg tea.Msg) tea.Cmd { _, c := m.Update(msg); return c }
	keep := func(msg tea.Msg) bool {
		switch fmt.Sprintf("%T", msg) {
		case "ui.SecretsLoadedMsg", "ui.secretsLoadMsg", "ui.dbConnectedMsg", "ui.DBReadyMsg", "ui.loginEventMsg",
			"ui.loginDoneMsg", "ui.LoginReportMsg", "ui.VerdictMsg":
			return true
		}
		return false
	}
	pump(t, update, m.Init(), 20*time.Second, keep, func() bool { return m.health() != nil && m.health().Connected })
	pump(t, update, tea.Batch(update(press("5")), update(press("enter"))), 30*time.Second, keep, func() bool {
		v := m.Verdict()
		return v != nil && v.Login != nil
	})
	con := m.Verdict()
	if con == nil || con.Login == nil {
		t.Fatal("the console has no verdict after its login run")
	}
	if con.Verdict.ID != cli.Verdict.ID || con.Verdict.Message != cli.Verdict.Message || con.Healthy != cli.Healthy {
		t.Errorf("console verdict %s %q (healthy %v)\ncheck verdict %s %q (healthy %v)", con.Verdict.ID, con.Verdict.Message, con.Healthy, cli.Verdict.ID, cli.Verdict.Message, cli.Healthy)
	}
	head := strings.SplitN(screen(m), "\n", 3)[1]
	if !strings.Contains(head, "✗ "+string(cli.Verdict.ID)) {
		t.Errorf("header %q does not lead with %s", head, cli.Verdict.ID)
	}
}

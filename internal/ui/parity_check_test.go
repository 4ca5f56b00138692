package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/probe/login"
	"github.com/authtui/authtui/internal/report"
)

// pcFlat is text as a reader sees it: no styles, one space between words,
// so that a fact wrapped over two lines still reads as one.
func pcFlat(s string) string { return strings.Join(strings.Fields(ansi.Strip(s)), " ") }

// The login pane and `authtui login`/`check` show the same run the same
// way: every fact of report.Login and report.Verdict of the pipeline's
// report is in the pane's view and in the text the CLI prints of it
// (report.Text, which the CLI calls). Real runs against real BetterAuth
// servers: a healthy one, refused credentials, and an API on another
// secret (failed steps with details, an undecided verdict with causes).
func TestParityLoginPaneAndCLI(t *testing.T) {
	const otherSecret = "authtui-fixture-secret-C-api-0123456789abcdef"
	srvs := batest.StartAll(t, batest.Options{Bearer: true}, batest.Options{Secret: otherSecret, Bearer: true})
	auth, api := srvs[0], srvs[1]
	batest.SignUp(t, auth.URL, "ada@example.com", lfPassword)

	cases := []struct {
		name, password, apiURL, verdict string
	}{
		{"healthy", lfPassword, "", ""},
		{"refused", "not-the-password-42", "", "login-credentials-rejected"},
		{"api on another secret", lfPassword, api.URL + "/api/me", "api-rejects-session"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &Config{Timeout: 10 * time.Second, Login: login.Options{BaseURL: auth.URL, Email: "ada@example.com", Password: tc.password, APIURL: tc.apiURL}}
			p := newTestLogin(t, cfg, auth.URL)
			lfRun(t, p, p.Update(press("enter")))
			rep := p.report
			if rep == nil || rep.Login == nil || rep.Login != p.result {
				t.Fatalf("the pane kept no pipeline report of its run")
			}
			if string(rep.Verdict.ID) != tc.verdict {
				t.Fatalf("verdict %q, want %q: %s", rep.Verdict.ID, tc.verdict, rep.Verdict.Message)
			}
			blocks := []report.Block{report.Login(rep.Login), report.Verdict(rep.Verdict, rep.Healthy)}
			view := pcFlat(p.View(400, 300))
			cli := pcFlat(report.TextString(blocks, report.TextOptions{}))
			facts := report.Facts(blocks)
			if len(facts) < 10 {
				t.Fatalf("only %d facts: %q", len(facts), facts)
			}
			for _, f := range facts {
				f = pcFlat(f)
				if !strings.Contains(view, f) {
					t.Errorf("the pane lacks %q:\n%s", f, ansi.Strip(p.View(400, 300)))
				}
				if !strings.Contains(cli, f) {
					t.Errorf("the CLI text lacks %q:\n%s", f, report.TextString(blocks, report.TextOptions{}))
				}
			}
			if tc.password != lfPassword {
				lfNoPassword(t, p, tc.password)
			}
			lfNoPassword(t, p, lfPassword)
		})
	}
}

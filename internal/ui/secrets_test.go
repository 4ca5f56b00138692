package ui

import (
	"os"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/project"
	"github.com/authtui/authtui/internal/report"
	"github.com/authtui/authtui/internal/testenv"
	"github.com/charmbracelet/x/ansi"
)

func TestSecretsPaneRereadsChangedFiles(t *testing.T) {
	auth := envFile(t, "auth.env", "BETTER_AUTH_SECRET="+secretA+"\n")
	api := envFile(t, "api.env", "BETTER_AUTH_SECRET="+secretC+"\n")
	cfg := &Config{EnvFiles: []string{auth, api}}
	cfg.defaults()
	p := newSecretsPane(cfg, newStyles())
	p.SetFocused(true)
	var broadcast []SecretsLoadedMsg
	update := func(msg tea.Msg) tea.Cmd {
		if m, ok := msg.(SecretsLoadedMsg); ok {
			broadcast = append(broadcast, m)
		}
		return p.Update(msg)
	}
	settle(t, update, p.Init(), 200*time.Millisecond)
	if len(broadcast) != 1 || !strings.Contains(ansi.Strip(p.View(80, 20)), "2 different secrets") {
		t.Fatalf("first load: %d broadcasts\n%s", len(broadcast), ansi.Strip(p.View(80, 20)))
	}
	// The API's env file is fixed on disk; the next poll notices.
	if err := os.WriteFile(api, []byte("BETTER_AUTH_SECRET="+secretA+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	settle(t, update, func() tea.Msg { return secretsPollMsg{sig: fileSig(cfg.EnvFiles)} }, 200*time.Millisecond)
	v := ansi.Strip(p.View(80, 20))
	if len(broadcast) != 2 || !strings.Contains(v, "✓ All 2 sources with a secret agree") {
		t.Fatalf("after the fix: %d broadcasts\n%s", len(broadcast), v)
	}
	if len(broadcast[1].Report.Candidates) == 0 {
		t.Error("the broadcast carries the new candidates")
	}
}

func TestSecretsPaneWidthSweep(t *testing.T) {
	m, _ := newTestModel(t, 80, 24)
	p := m.panes[0]
	for w := 20; w <= 200; w += 3 {
		for _, h := range []int{2, 5, 20} {
			checkFits(t, "secrets view", p.View(w, h), w, h)
			checkFits(t, "secrets summary", p.Summary(w, h), w, h)
		}
	}
}

// The summary box names the sources, and marks the one whose secret
// differs from the others': at 40×8 there is room for every one.
func TestSecretsSummaryNamesTheOddOneOut(t *testing.T) {
	files := []string{
		envFile(t, "auth.env", "BETTER_AUTH_SECRET="+secretA+"\n"),
		envFile(t, "api.env", "BETTER_AUTH_SECRET="+secretC+"\n"),
		envFile(t, "worker.env", "BETTER_AUTH_SECRET="+secretA+"\n"),
	}
	cfg := &Config{EnvFiles: files}
	cfg.defaults()
	p := newSecretsPane(cfg, newStyles())
	settle(t, p.Update, p.Init(), 200*time.Millisecond)
	lines := strings.Split(ansi.Strip(p.Summary(40, 8)), "\n")
	row := func(file string) string {
		for _, l := range lines {
			if strings.Contains(l, "/"+file+" ") {
				return l
			}
		}
		t.Fatalf("no row for %s in the summary:\n%s", file, strings.Join(lines, "\n"))
		return ""
	}
	fpA, fpC := p.report.Sources[0].Fingerprint, p.report.Sources[1].Fingerprint
	for file, want := range map[string]string{"auth.env": "✓", "worker.env": "✓", "api.env": "✗"} {
		fp := fpA
		if file == "api.env" {
			fp = fpC
		}
		if r := row(file); !strings.HasPrefix(r, want+" ") || !strings.HasSuffix(strings.TrimSpace(r), fp) {
			t.Errorf("%s: %q, want %s and fingerprint %s", file, r, want, fp)
		}
	}
	if !strings.Contains(lines[0], "3 source(s), 2 different secrets") || !strings.Contains(lines[1], "✗ secrets differ") {
		t.Errorf("summary head:\n%s", strings.Join(lines, "\n"))
	}
	if strings.Contains(p.Summary(40, 8), secretA) {
		t.Fatal("a secret in the summary")
	}
}

// On a discovered project the pane leads with the services ×
// environments matrix, and the other environments' findings (Preview
// holding Production's secret) are findings of the pane, so the header's
// verdict weighs them.
func TestSecretsPaneShowsProjectMatrix(t *testing.T) {
	root := testenv.CopyProject(t, "next-monorepo")
	plan, err := project.Build(project.Options{Dir: root})
	if err != nil {
		t.Fatal(err)
	}
	env := plan.Environment()
	cfg := &Config{EnvFiles: plan.Files(), Environment: env,
		LoadSources: func() ([]probe.Source, finding.List) { return plan.Sources(env, nil) },
		Matrix: func() (report.Block, finding.List) {
			all, reports, fs := plan.Compare()
			return report.Matrix(all, reports), project.OtherEnvs(fs, env)
		}}
	cfg.defaults()
	p := newSecretsPane(cfg, newStyles())
	settle(t, p.Update, p.Init(), 500*time.Millisecond)
	v := ansi.Strip(p.View(120, 30))
	for _, want := range []string{"Secrets by environment", "PRODUCTION", "PREVIEW", "DEVELOPMENT", "✗ 3fbb80c56193", "web (apps/web/.env.local)"} {
		if !strings.Contains(v, want) {
			t.Errorf("pane lacks %q:\n%s", want, v)
		}
	}
	if !p.Findings().Has(finding.EnvironmentCrossed) {
		t.Errorf("findings: %+v", p.Findings())
	}
}

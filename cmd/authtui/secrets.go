package main

import (
	"io"

	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/project"

	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/report"
)

func runSecrets(a *app, args []string) (int, error) {
	var c common
	fs := newFlagSet(a, "secrets", "secrets [--env-file PATH]... [--json]", `
Resolve BETTER_AUTH_SECRETS / BETTER_AUTH_SECRET / AUTH_SECRET in every env
source the way BetterAuth does, and compare the results by fingerprint (a
short HMAC keyed by the secret; the secret itself is never printed).

Example:
  authtui secrets --env-file auth-service/.env --env-file api/.env`)
	c.register(fs)
	if code, err := parseNoArgs(fs, args); err != nil || code >= 0 {
		return max(code, 0), err
	}
	if c.discovered() {
		return secretsOfProject(a, &c)
	}
	sources, loadFindings := c.loadSources(a)
	if len(sources) == 0 {
		// Nothing at all: "No findings" would read as a clean bill.
		return exitUsage, usagef("nothing to compare: no service with env files under %s, no .env or .env.local here, and no BetterAuth variable in the environment; pass --env-file FILE (repeatable) or write a project file with 'authtui init'", dirLabel(a))
	}
	rep := probe.CheckSecrets(sources)
	rep.Findings = append(loadFindings, rep.Findings...)
	if c.json {
		return exitFor(rep.Findings), writeJSON(a.stdout, rep)
	}
	writeSecretsText(a.stdout, newStyle(c.colors(a)), rep, true)
	return exitFor(rep.Findings), nil
}

// projectSecrets is the JSON of `authtui secrets` on a discovered project.
type projectSecrets struct {
	Project      *project.Plan                  `json:"project"`
	Environment  string                         `json:"environment"`
	Environments map[string]probe.SecretsReport `json:"environments"`
	Findings     finding.List                   `json:"findings"`
}

// secretsOfProject compares the project's services within each
// environment: what each would really run with, and which file to edit.
func secretsOfProject(a *app, c *common) (int, error) {
	all, reports, fs := c.plan.Compare()
	env := c.env()
	if c.json {
		return exitFor(fs), writeJSON(a.stdout, projectSecrets{Project: c.plan, Environment: env, Environments: reports, Findings: fs})
	}
	bs := []report.Block{report.Project(c.plan, env, c.plan.NotCompared()), report.Matrix(all, reports)}
	if rep, ok := reports[env]; ok {
		detail := report.Secrets(rep)
		for i := range detail {
			if detail[i].Title != "" {
				detail[i].Title += " in " + env
			}
		}
		bs = append(bs, detail...)
	}
	bs = append(bs, report.Findings(fs))
	report.Text(a.stdout, bs, newStyle(c.colors(a)).reportText())
	return exitFor(fs), nil
}

func dirLabel(a *app) string {
	if a.dir == "" {
		return "the working directory"
	}
	return a.dir
}

// writeSecretsText prints the secrets report, and its findings unless a
// caller collects them for one list at the end. Such a caller (check)
// heads the section itself, so the block's own title is left out then.
func writeSecretsText(w io.Writer, st style, rep probe.SecretsReport, withFindings bool) {
	bs := report.Secrets(rep)
	if withFindings {
		bs = append(bs, report.Findings(rep.Findings))
	} else {
		bs = untitled(bs)
	}
	report.Text(w, bs, st.reportText())
}

// untitled drops the blocks' titles, for a caller that prints its own
// heading over them.
func untitled(bs []report.Block) []report.Block {
	out := make([]report.Block, len(bs))
	for i, b := range bs {
		b.Title, b.Meta = "", ""
		out[i] = b
	}
	return out
}

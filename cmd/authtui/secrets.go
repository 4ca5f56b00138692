package main

import (
	"io"

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
	sources, loadFindings := c.loadSources(a)
	rep := probe.CheckSecrets(sources)
	rep.Findings = append(loadFindings, rep.Findings...)
	if c.json {
		return exitFor(rep.Findings), writeJSON(a.stdout, rep)
	}
	writeSecretsText(a.stdout, newStyle(c.colors(a)), rep, true)
	return exitFor(rep.Findings), nil
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

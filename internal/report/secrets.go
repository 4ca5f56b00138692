package report

import (
	"fmt"
	"sort"
	"strings"

	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/textsafe"
)

// SecretsHead is the head of the secrets table.
var SecretsHead = []string{"SOURCE", "VARIABLE", "LENGTH", "ENTROPY", "FINGERPRINT", "STATUS", "BASE URL"}

// noSources is what the secrets report says when there is nothing to read.
const noSources = "No env sources: no --env-file given, no .env or .env.local here, and no BetterAuth variable in the environment. Pass --env-file PATH (repeatable), or run where the .env is."

// Secrets is the secrets probe as one block: a row per env source (and
// per BETTER_AUTH_SECRETS version and unused secret variable under it),
// then whether the sources agree. The findings are not part of it:
// callers add Findings where they list them.
func Secrets(rep probe.SecretsReport) []Block {
	b := Block{Title: "Secrets"}
	if len(rep.Sources) == 0 {
		b.Lines = []Line{Prose(noSources, Warn)}
		return []Block{b}
	}
	b.Meta = plural(len(rep.Sources), "source")
	t := &Table{Head: SecretsHead}
	for _, s := range rep.Sources {
		t.Rows = append(t.Rows, SecretRows(s, rep.Findings)...)
	}
	b.Table = t
	b.After = SecretsAgreement(rep)
	return []Block{b}
}

// SecretLabel is a source's label as shown: the path as given, cleaned.
func SecretLabel(s probe.SecretStatus) string { return Safe(s.Label, 200) }

// SecretRows is one source as rows of the secrets table: its own row,
// then one per BETTER_AUTH_SECRETS version and one per secret variable it
// sets but BetterAuth does not use. fs are the report's findings: the
// STATUS column says what they say about this source.
func SecretRows(s probe.SecretStatus, fs finding.List) [][]Span {
	label := P(SecretLabel(s))
	if !s.Loaded {
		return [][]Span{{label, S("✗ unreadable: "+Safe(s.Error, 120), Bad)}}
	}
	variable := P(textsafe.Clean(s.Variable))
	if s.Default {
		variable = S("✗ none → "+probe.DefaultLabel, Bad)
	}
	length, entropy := P("-"), P("-")
	if s.Present {
		length = P(fmt.Sprint(s.Length))
		entropy = P(fmt.Sprintf("%.0f bits", s.EntropyBits))
	}
	// BETTER_AUTH_URL may carry userinfo or a query: shown as a location
	// only, as every URL is.
	base := P(Clip(textsafe.URL(s.BaseURL), 40))
	rows := [][]Span{{label, variable, length, entropy, P(textsafe.Clean(s.Fingerprint)), secretStatus(s, fs), base}}
	for _, v := range s.Versions {
		name := "└ version " + Clip(v.Version, 12)
		if v.Current {
			name += " (current)"
		}
		rows = append(rows, []Span{P(""), S(name, Dim), S(fmt.Sprint(v.Length), Dim), P(""), S(textsafe.Clean(v.Fingerprint), Dim)})
	}
	for _, v := range s.Variables {
		if v.Used || v.Name == "BETTER_AUTH_SECRETS" {
			continue
		}
		entropy := ""
		if v.Length > 0 {
			entropy = fmt.Sprintf("%.0f bits", v.EntropyBits)
		}
		rows = append(rows, []Span{P(""), S("└ also "+textsafe.Clean(v.Name)+" (not used)", Dim), S(fmt.Sprint(v.Length), Dim), S(entropy, Dim), S(textsafe.Clean(v.Fingerprint), Dim)})
	}
	return rows
}

// secretStatus says in a few words what the findings raised about the
// source's current secret: the probe decides what is weak, the table only
// repeats it next to the source.
func secretStatus(s probe.SecretStatus, fs finding.List) Span {
	if s.Default {
		return S("✗ no secret", Bad)
	}
	var bad, warn []string
	for _, f := range fs {
		if f.Source != s.Label {
			continue
		}
		switch f.ID {
		case finding.SecretsMalformed:
			bad = append(bad, "malformed")
		case finding.SecretDefault:
			bad = append(bad, "published default")
		case finding.SecretShort:
			warn = append(warn, "short")
		case finding.SecretLowEntropy:
			warn = append(warn, "low entropy")
		}
	}
	if s.Whitespace != "" {
		bad = append(bad, textsafe.Clean(s.Whitespace))
	}
	switch {
	case len(bad) > 0:
		return S("✗ "+strings.Join(append(bad, warn...), ", "), Bad)
	case len(warn) > 0:
		return S("! "+strings.Join(warn, ", "), Warn)
	case !s.Present:
		return P("")
	}
	return S("✓", Good)
}

// SecretGroup is the sources that hold one current secret.
type SecretGroup struct {
	Fingerprint string
	Labels      []string // as shown (SecretLabel), in source order
}

// SecretGroups groups the sources with a secret by its fingerprint,
// ordered by fingerprint so that the order does not depend on the order
// of the env files.
func SecretGroups(rep probe.SecretsReport) []SecretGroup {
	at := map[string]int{}
	var out []SecretGroup
	for _, s := range rep.Sources {
		if !s.Present {
			continue
		}
		i, ok := at[s.Fingerprint]
		if !ok {
			i = len(out)
			at[s.Fingerprint] = i
			out = append(out, SecretGroup{Fingerprint: textsafe.Clean(s.Fingerprint)})
		}
		out[i].Labels = append(out[i].Labels, SecretLabel(s))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Fingerprint < out[j].Fingerprint })
	return out
}

// SecretsAgreement says whether the sources with a secret agree, and if
// not, which sources hold which secret.
func SecretsAgreement(rep probe.SecretsReport) []Line {
	gs := SecretGroups(rep)
	switch {
	case len(gs) == 0:
		return []Line{L("", S("! No source sets a secret.", Warn))}
	case len(gs) == 1 && len(gs[0].Labels) == 1:
		return []Line{L("", S("One source with a secret (fingerprint "+gs[0].Fingerprint+"): nothing to compare.", Dim))}
	case len(gs) == 1:
		return []Line{L("", S(fmt.Sprintf("✓ All %d sources with a secret agree (fingerprint %s).", len(gs[0].Labels), gs[0].Fingerprint), Good))}
	}
	out := []Line{L("", S(fmt.Sprintf("✗ %d different secrets:", len(gs)), Bad))}
	for _, g := range gs {
		out = append(out, Line{Indent: 1, Spans: []Span{P(g.Fingerprint + " = " + strings.Join(g.Labels, ", "))}})
	}
	return append(out, Line{Indent: 1, Prose: true, Spans: []Span{S("A cookie signed with one is null (no session) for the others.", Dim)}})
}

package report

import (
	"fmt"
	"strings"

	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/discover"
	"github.com/authtui/authtui/internal/probe/project"
)

// Project is what discovery found (and the project file declared), said
// compactly before the findings: one line per service with its role,
// stack and env files in load order for the environment in use, then
// what was skipped and why.
func Project(p *project.Plan, env string, notCompared []string) Block {
	b := Block{Title: "Project", Meta: Safe(p.Root, 120)}
	if p.File != "" {
		b.Lines = append(b.Lines, L("file", P(Safe(p.File, 200)), S("  (overrides discovery; flags override it)", Dim)))
	}
	b.Lines = append(b.Lines, L("environment", P(Clip(env, 20)), S("  (--environment to choose)", Dim)))
	for _, s := range p.Services {
		what := string(s.Role)
		if s.Stack != "" {
			what += " · " + string(s.Stack)
		}
		if s.BetterAuth != "" {
			what += " · better-auth " + Clip(s.BetterAuth, 40)
		}
		if s.Declared {
			what += " · declared"
		}
		spans := []Span{S(Clip(s.Name, 40), Strong), P("  " + what + "  "), S(Clip(s.Dir, 80), Dim)}
		b.Lines = append(b.Lines, Line{Label: "service", Spans: spans})
		var files []string
		for _, e := range s.Envs {
			if e.Name == env {
				for _, f := range e.Files {
					files = append(files, Clip(strings.TrimPrefix(f, s.Dir+"/"), 80))
				}
			}
		}
		var others []string
		if p.Found != nil {
			others = p.Found.Others[s.Dir]
		}
		switch {
		case len(others) > 0 && len(files) == 0:
			b.Lines = append(b.Lines, Line{Indent: 1, Spans: []Span{P(Clip(strings.Join(others, ", "), 120)), S("  (sources that are not env files)", Dim)}})
		case len(files) > 0:
			b.Lines = append(b.Lines, Line{Indent: 1, Spans: []Span{P(strings.Join(files, " > ")), S("  (the first that sets a variable wins)", Dim)}})
		case len(s.Envs) == 0:
			b.Lines = append(b.Lines, Line{Indent: 1, Spans: []Span{S("no env files: nothing to compare", Dim)}})
		default:
			var names []string
			for _, e := range s.Envs {
				names = append(names, e.Name)
			}
			b.Lines = append(b.Lines, Line{Indent: 1, Spans: []Span{S("no "+env+" files (has "+strings.Join(names, ", ")+")", Warn)}})
		}
	}
	if len(notCompared) > 0 {
		var us []string
		for _, u := range notCompared {
			us = append(us, Safe(u, 300))
		}
		for _, u := range us {
			b.Lines = append(b.Lines, Line{Label: "not compared", Prose: true, Spans: []Span{S(u, Warn)}})
		}
	}
	if f := p.Found; f != nil && len(f.Skipped) > 0 {
		var parts []string
		for _, s := range f.Skipped {
			item := Clip(s.What, 60) + " (" + Clip(s.Why, 60)
			if s.Count > 1 {
				item += fmt.Sprintf(", %d×", s.Count)
			}
			parts = append(parts, item+")")
		}
		b.Lines = append(b.Lines, Line{Label: "skipped", Prose: true, Spans: []Span{S(strings.Join(parts, ", "), Dim)}})
	}
	return b
}

// Matrix compares the services across environments by fingerprint: a row
// per service, a column per environment. Within a column every service
// must agree (✗ marks a fingerprint that differs from the column's
// first); across a row a service may differ, which is normal.
func Matrix(srcs []discover.EnvSource, reports map[string]probe.SecretsReport) Block {
	envs := discover.EnvNames(srcs)
	b := Block{Title: "Secrets by environment", Meta: "fingerprints; every service in one environment must agree"}
	fp := map[[2]string]string{}
	var services []string
	seen := map[string]bool{}
	for _, s := range srcs {
		if !seen[s.Service] {
			seen[s.Service] = true
			services = append(services, s.Service)
		}
		for _, st := range reports[s.Env].Sources {
			if st.Label == s.Source.Label {
				switch {
				case st.Present:
					fp[[2]string{s.Service, s.Env}] = st.Fingerprint
				case !st.Loaded:
					fp[[2]string{s.Service, s.Env}] = "unreadable"
				default:
					fp[[2]string{s.Service, s.Env}] = "no secret"
				}
			}
		}
	}
	t := &Table{Head: append([]string{"SERVICE"}, upper(envs)...)}
	first := map[string]string{}
	for _, env := range envs {
		for _, s := range services {
			if v, ok := fp[[2]string{s, env}]; ok && first[env] == "" {
				first[env] = v
			}
		}
	}
	for _, s := range services {
		row := []Span{P(Clip(s, 40))}
		for _, env := range envs {
			v, ok := fp[[2]string{s, env}]
			switch {
			case !ok:
				row = append(row, S("—", Dim))
			case v == "no secret" || v == "unreadable":
				row = append(row, S("✗ "+v, Bad))
			case v != first[env]:
				row = append(row, S("✗ "+v, Bad))
			default:
				row = append(row, S("✓ "+v, Good))
			}
		}
		t.Rows = append(t.Rows, row)
	}
	b.Table = t
	return b
}

func upper(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToUpper(s)
	}
	return out
}

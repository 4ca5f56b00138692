package discover

import (
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/finding"
)

// Value is a variable's effective value in one environment of a service
// and the file it came from: the file to edit.
type Value struct {
	Value string
	File  string
}

// Effective reads an environment's files, the winning one first, and
// returns the value each BetterAuth variable really has: the first file
// that sets a variable wins (dotenv and @next/env never override a value
// already set, even an empty one). Files that cannot be read are
// reported and skipped.
func (p *Project) Effective(e Env) (map[string]Value, finding.List) {
	vals := map[string]Value{}
	var fs finding.List
	for _, f := range e.Files {
		data, err := probe.ReadEnvFile(filepath.Join(p.Root, filepath.FromSlash(f)))
		var vars map[string]string
		if err == nil {
			vars, err = probe.ParseEnv(data)
		}
		if err != nil {
			fs.Add(finding.EnvFileUnreadable, f, "cannot use %s: %s", f, err)
			continue
		}
		for k, v := range vars {
			if _, set := vals[k]; !set {
				vals[k] = Value{Value: v, File: f}
			}
		}
	}
	return vals, fs
}

// EnvSource is one service in one environment as a probe source.
type EnvSource struct {
	Service string
	Env     string
	Source  probe.Source
	// From names, per variable, the file that sets it.
	From map[string]string
	// Unresolved are variables whose value is a reference (${NAME}).
	Unresolved []string

	onlyWrangler bool // every value comes from wrangler.toml
}

// Sources is every service in every environment it has, as probe
// sources labelled "service (file)", the file being the one that sets the
// secret (else the environment's winning file). Sources that are not env
// files join their service's environment above its env files, in the
// order the tools apply them: direnv's exports (.envrc) reach the process
// before any dotenv loader, which never overrides them; `wrangler dev`
// puts .dev.vars over wrangler.toml's [vars]. Compose services are
// services of their own. A source whose secret is only a reference
// (${BETTER_AUTH_SECRET}, passed in by the shell) is not compared: it is
// listed in Unresolved instead of reported as having no secret.
func (p *Project) Sources() ([]EnvSource, finding.List) {
	var fs finding.List
	type key struct{ service, env string }
	extras := map[key][]Extra{}
	var extraOrder []key
	dirs := make([]string, 0, len(p.Others))
	for d := range p.Others {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, dir := range dirs {
		ex, err := ReadExtras(p.Root, dir, p.Others[dir])
		if err != nil {
			fs.Add(finding.EnvFileUnreadable, dir, "cannot use every source in %s: %v", dir, err)
		}
		for _, e := range ex {
			k := key{e.Service, e.Env}
			if k.service == "" {
				k.service = p.serviceAt(dir)
			}
			if _, ok := extras[k]; !ok {
				extraOrder = append(extraOrder, k)
			}
			extras[k] = append(extras[k], e)
		}
	}
	var out []EnvSource
	used := map[key]bool{}
	for _, s := range p.Services {
		for _, e := range s.Envs {
			vals, efs := p.Effective(e)
			fs = append(fs, efs...)
			k := key{s.Name, e.Name}
			used[k] = true
			out = append(out, p.envSource(s.Name, e.Name, vals, extras[k], e.Files))
		}
	}
	for _, k := range extraOrder {
		if !used[k] {
			out = append(out, p.envSource(k.service, k.env, map[string]Value{}, extras[k], nil))
		}
	}
	var kept []EnvSource
	for _, s := range out {
		if why := s.notCompared(); why != "" {
			p.Unresolved = append(p.Unresolved, s.Source.Label+" in "+s.Env+": "+why)
			continue
		}
		kept = append(kept, s)
	}
	return kept, fs
}

// extraRank orders other sources over env files: the lower, the stronger.
var extraRank = map[string]int{KindEnvrc: 0, KindDevVars: 1, KindWrangler: 2, KindCompose: 3}

func (p *Project) envSource(service, env string, vals map[string]Value, ex []Extra, files []string) EnvSource {
	sort.SliceStable(ex, func(i, j int) bool { return extraRank[ex[i].Kind] < extraRank[ex[j].Kind] })
	merged := map[string]Value{}
	unresolved := map[string]bool{}
	for _, e := range ex {
		for k, v := range e.Vars {
			if _, set := merged[k]; !set {
				merged[k] = Value{Value: v, File: e.File}
			}
		}
		for _, u := range e.Unresolved {
			if _, set := merged[u]; !set {
				unresolved[u] = true
			}
		}
	}
	for k, v := range vals {
		if _, set := merged[k]; !set {
			merged[k] = v
			delete(unresolved, k)
		}
	}
	src := probe.Source{Vars: map[string]string{}}
	from := map[string]string{}
	for k, v := range merged {
		src.Vars[k] = v.Value
		from[k] = v.File
	}
	file := ""
	for _, name := range probe.SecretVars {
		if f, ok := from[name]; ok {
			file = f
			break
		}
	}
	switch {
	case file != "":
	case len(files) > 0:
		file = files[0]
	case len(ex) > 0:
		file = ex[0].File
	}
	src.Label = fmt.Sprintf("%s (%s)", service, file)
	var un []string
	for u := range unresolved {
		un = append(un, u)
	}
	sort.Strings(un)
	only := len(files) == 0 && len(ex) > 0
	for _, e := range ex {
		only = only && e.Kind == KindWrangler
	}
	return EnvSource{Service: service, Env: env, Source: src, From: from, Unresolved: un, onlyWrangler: only}
}

// notCompared says why a source without a secret value must not be
// compared (it would be reported as having none, which is not known):
// its secret is a reference the shell fills in, or it is a deployed
// Worker's, whose secrets `wrangler secret put` keeps outside every file.
func (s EnvSource) notCompared() string {
	if _, _, ok := s.Source.FirstSet(probe.SecretVars); ok {
		return ""
	}
	for _, u := range s.Unresolved {
		for _, v := range probe.SecretVars {
			if u == v {
				return u + " is a ${…} reference the shell fills in"
			}
		}
	}
	if s.Env != EnvDevelopment && s.onlyWrangler {
		return "a deployed Worker's secrets are set with `wrangler secret put`, not in wrangler.toml"
	}
	return ""
}

// serviceAt names the service whose directory is dir, else the
// directory itself.
func (p *Project) serviceAt(dir string) string {
	for _, s := range p.Services {
		if s.Dir == dir {
			return s.Name
		}
	}
	if dir == "." {
		return "root"
	}
	return path.Base(dir)
}

// EnvNames lists the environments any service has, in display order.
func EnvNames(srcs []EnvSource) []string {
	order := map[string]int{EnvProduction: 0, EnvPreview: 1, EnvDevelopment: 2, EnvCompose: 3}
	seen := map[string]bool{}
	var out []string
	for _, s := range srcs {
		if !seen[s.Env] {
			seen[s.Env] = true
			out = append(out, s.Env)
		}
	}
	sort.Slice(out, func(i, j int) bool { return order[out[i]] < order[out[j]] })
	return out
}

// Compare checks the services within each environment (every service in
// Production must hold the same secret; so must every service in
// Preview), and looks for the classic Preview failure: an environment one
// service defines and another lacks, or fills with another environment's
// values. One service differing across its own environments is normal.
func Compare(srcs []EnvSource) (map[string]probe.SecretsReport, finding.List) {
	byEnv := map[string][]probe.Source{}
	for _, s := range srcs {
		byEnv[s.Env] = append(byEnv[s.Env], s.Source)
	}
	reports := map[string]probe.SecretsReport{}
	var fs finding.List
	for _, env := range EnvNames(srcs) {
		rep := probe.CheckSecrets(byEnv[env])
		for i := range rep.Findings {
			rep.Findings[i].Message = "In " + env + ": " + rep.Findings[i].Message
		}
		reports[env] = rep
		fs = append(fs, rep.Findings...)
	}
	fs = append(fs, crossCheck(srcs, reports)...)
	return reports, fs
}

// crossCheck raises environment-missing and environment-crossed.
func crossCheck(srcs []EnvSource, reports map[string]probe.SecretsReport) finding.List {
	fp := map[[2]string]string{} // service, env → fingerprint
	label := map[[2]string]string{}
	services := map[string]bool{}
	for _, s := range srcs {
		services[s.Service] = true
		label[[2]string{s.Service, s.Env}] = s.Source.Label
	}
	for env, rep := range reports {
		for _, st := range rep.Sources {
			for _, s := range srcs {
				if s.Env == env && s.Source.Label == st.Label && st.Present {
					fp[[2]string{s.Service, env}] = st.Fingerprint
				}
			}
		}
	}
	var names []string
	for n := range services {
		names = append(names, n)
	}
	sort.Strings(names)
	var fs finding.List
	for _, env := range []string{EnvProduction, EnvPreview} {
		var have, lack []string
		for _, n := range names {
			if _, ok := label[[2]string{n, env}]; ok {
				have = append(have, n)
			} else {
				lack = append(lack, n)
			}
		}
		if len(have) > 0 && len(lack) > 0 {
			fs.Add(finding.EnvironmentMissing, strings.Join(lack, ", "),
				"%s %s %s values (%s), %s none: when deployed to %s, %s runs with whatever the host sets, often nothing (then BetterAuth's built-in default secret). Pull or set %s's %s values (vercel pull --environment=%s) and compare again.",
				strings.Join(have, ", "), hasHave(len(have)), env, labels(have, env, label), strings.Join(lack, ", "), env, strings.Join(lack, ", "), strings.Join(lack, ", "), env, env)
		}
		// Another environment's values: a service's secret in env equals
		// another service's secret in a different environment, and not
		// that service's own secret in env.
		for _, a := range names {
			fa, ok := fp[[2]string{a, env}]
			if !ok {
				continue
			}
			for _, b := range names {
				if a == b {
					continue
				}
				fb, ok := fp[[2]string{b, env}]
				if !ok || fb == fa {
					continue
				}
				for _, other := range []string{EnvProduction, EnvPreview, EnvDevelopment} {
					if other == env || fp[[2]string{b, other}] != fa {
						continue
					}
					fs.Add(finding.EnvironmentCrossed, label[[2]string{a, env}],
						"%s's %s secret is %s's %s secret (fingerprint %s), not the %s one (%s): %s holds another environment's values. Set its BETTER_AUTH_SECRET to the one %s uses in %s.",
						a, env, b, other, fa, env, fb, label[[2]string{a, env}], b, env)
					break
				}
			}
		}
	}
	return fs
}

func hasHave(n int) string {
	if n == 1 {
		return "has"
	}
	return "have"
}

func labels(names []string, env string, label map[[2]string]string) string {
	var out []string
	for _, n := range names {
		out = append(out, label[[2]string{n, env}])
	}
	return strings.Join(out, ", ")
}

package project

import (
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/discover"
	"github.com/authtui/authtui/internal/probe/finding"
)

// Plan is the project as authtui will use it: the discovered services,
// corrected and completed by the project file.
type Plan struct {
	Root     string            `json:"root"`
	File     string            `json:"file,omitempty"` // the project file read, "" without one
	Settings Settings          `json:"settings"`
	Services []PlanService     `json:"services"`
	Found    *discover.Project `json:"discovered"`
}

// PlanService is one service to compare and test.
type PlanService struct {
	discover.Service
	Declared bool   `json:"declared"` // named in the project file
	BaseURL  string `json:"base_url,omitempty"`
	APIURL   string `json:"api_url,omitempty"`
	// JWTAudience is the aud the service expects in jwt() tokens.
	JWTAudience string `json:"jwt_audience,omitempty"`
}

// Options say where to start.
type Options struct {
	Dir    string // the working directory
	Config string // --config: a project file to use instead of looking for one
	NoFile bool   // discovery alone (authtui init, replacing a file)
	Walk   discover.Options
}

// Build finds the project file (from Dir upward, or Options.Config),
// discovers the services under the project's root, and merges the two.
func Build(o Options) (*Plan, error) {
	dir := o.Dir
	if dir == "" {
		dir = "."
	}
	file := o.Config
	switch {
	case o.NoFile:
		file = ""
	case file == "":
		file, _ = Find(dir)
	case !filepath.IsAbs(file):
		file = filepath.Join(dir, file)
	}
	var pf *File
	root := dir
	if file != "" {
		var err error
		if pf, err = Load(file); err != nil {
			return nil, err
		}
		root = filepath.Dir(file)
	}
	found, err := discover.Walk(root, o.Walk)
	if err != nil {
		return nil, err
	}
	p := &Plan{Root: found.Root, Found: found}
	for _, s := range found.Services {
		p.Services = append(p.Services, PlanService{Service: s})
	}
	if pf != nil {
		p.File = file
		p.Settings = pf.Project
		for _, d := range pf.Services {
			p.declare(d)
		}
	}
	return p, nil
}

// declare applies one declared service over what discovery found at its
// directory (or adds it).
func (p *Plan) declare(d Service) {
	dir := path.Clean(filepath.ToSlash(d.Dir))
	i := -1
	for j, s := range p.Services {
		if s.Dir == dir {
			i = j
		}
	}
	if i < 0 {
		p.Services = append(p.Services, PlanService{Service: discover.Service{Dir: dir}})
		i = len(p.Services) - 1
	}
	s := &p.Services[i]
	s.Declared, s.Name, s.BaseURL, s.APIURL, s.JWTAudience = true, d.Name, d.BaseURL, d.APIURL, d.JWTAudience
	s.Role = discover.RoleConsumer
	if d.Role == RoleAuth {
		s.Role = discover.RoleAuth
	}
	if len(d.EnvFiles) > 0 {
		env := p.Environment()
		var files []string
		for _, f := range d.EnvFiles {
			files = append(files, path.Join(dir, filepath.ToSlash(f)))
		}
		kept := []discover.Env{{Name: env, Files: files}}
		for _, e := range s.Envs {
			if e.Name != env {
				kept = append(kept, e)
			}
		}
		s.Envs = kept
	}
}

// Environment is the one environment check, login and the console use:
// the project file's, else local or development when a service has it,
// else the first any service has.
func (p *Plan) Environment() string {
	if p.Settings.Environment != "" {
		return p.Settings.Environment
	}
	have := map[string]bool{}
	var first string
	for _, s := range p.Services {
		for _, e := range s.Envs {
			have[e.Name] = true
			if first == "" {
				first = e.Name
			}
		}
	}
	if have[discover.EnvDevelopment] {
		return discover.EnvDevelopment
	}
	if first == "" {
		// Only sources that are not env files (a Worker's .dev.vars, a
		// compose file): their environments.
		srcs, _ := p.project().Sources()
		for _, env := range discover.EnvNames(srcs) {
			if env == discover.EnvDevelopment {
				return env
			}
			if first == "" {
				first = env
			}
		}
	}
	return first
}

// Empty says the plan has nothing to work with: no service with an env
// file and no project file.
func (p *Plan) Empty() bool {
	if p.File != "" || (p.Found != nil && len(p.Found.Others) > 0) {
		return false
	}
	for _, s := range p.Services {
		if len(s.Envs) > 0 {
			return false
		}
	}
	return true
}

// project is the plan as a discover.Project, for its source functions.
func (p *Plan) project() *discover.Project {
	dp := &discover.Project{Root: p.Root}
	if p.Found != nil {
		dp.Others = p.Found.Others
	}
	for _, s := range p.Services {
		dp.Services = append(dp.Services, s.Service)
	}
	return dp
}

// AllSources is every service in every environment, labelled
// "service (file)".
func (p *Plan) AllSources() ([]discover.EnvSource, finding.List) {
	return p.project().Sources()
}

// NotCompared are the sources AllSources leaves out, as "label in env:
// why" (a ${…} secret, a deployed Worker's).
func (p *Plan) NotCompared() []string {
	dp := p.project()
	dp.Sources()
	return dp.Unresolved
}

// Sources are the services in one environment as probe sources, the auth
// services first (so their BETTER_AUTH_URL is the base URL), then the
// process environment.
func (p *Plan) Sources(env string, environ []string) ([]probe.Source, finding.List) {
	all, fs := p.AllSources()
	role := map[string]discover.Role{}
	for _, s := range p.Services {
		role[s.Name] = s.Role
	}
	var auth, rest []probe.Source
	for _, s := range all {
		if s.Env != env {
			continue
		}
		if role[s.Service] == discover.RoleAuth {
			auth = append(auth, s.Source)
		} else {
			rest = append(rest, s.Source)
		}
	}
	out := append(auth, rest...)
	if e, ok := probe.EnvironSource(environ); ok {
		out = append(out, e)
	}
	return out, fs
}

// Files are every env file the plan reads, absolute, for change polling.
func (p *Plan) Files() []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range p.Services {
		for _, e := range s.Envs {
			for _, f := range e.Files {
				if !seen[f] {
					seen[f] = true
					out = append(out, filepath.Join(p.Root, filepath.FromSlash(f)))
				}
			}
		}
	}
	if p.Found != nil {
		for dir, names := range p.Found.Others {
			for _, n := range names {
				out = append(out, filepath.Join(p.Root, filepath.FromSlash(dir), n))
			}
		}
	}
	sort.Strings(out)
	return out
}

// Declared is what the project file says, for probe.Resolve.
func (p *Plan) Declared() probe.Declared {
	d := probe.Declared{File: FileName, DatabaseURL: p.Settings.DatabaseURL, DatabaseURLVar: p.Settings.DatabaseURLEnv, StoreURLVar: p.Settings.RedisURLEnv}
	if p.File == "" {
		return probe.Declared{}
	}
	if len(p.Settings.Origins) > 0 {
		d.Origin = p.Settings.Origins[0]
	}
	for _, s := range p.Services {
		if s.Role == discover.RoleAuth && d.BaseURL == "" {
			d.BaseURL = s.BaseURL
		}
		if s.APIURL != "" && d.APIURL == "" {
			d.APIURL = s.APIURL
		}
	}
	return d
}

// Summary says in a few words what was found: "2 services (auth-service:
// auth, api: consumer) · environment local".
func (p *Plan) Summary() string {
	var parts []string
	for _, s := range p.Services {
		parts = append(parts, fmt.Sprintf("%s: %s", s.Name, s.Role))
	}
	return fmt.Sprintf("%d service(s) (%s) · environment %s", len(p.Services), strings.Join(parts, ", "), p.Environment())
}

// Compare compares every service within each environment (see
// discover.Compare), the auth services first: each environment's
// reference.
func (p *Plan) Compare() ([]discover.EnvSource, map[string]probe.SecretsReport, finding.List) {
	all, fs := p.AllSources()
	role := map[string]discover.Role{}
	for _, s := range p.Services {
		role[s.Name] = s.Role
	}
	sort.SliceStable(all, func(i, j int) bool {
		return role[all[i].Service] == discover.RoleAuth && role[all[j].Service] != discover.RoleAuth
	})
	reports, cmp := discover.Compare(all)
	return all, reports, append(fs, cmp...)
}

// OtherEnvs keeps the findings of a comparison that are not about env
// (whose sources a run reads, and raises those itself).
func OtherEnvs(fs finding.List, env string) finding.List {
	var out finding.List
	for _, f := range fs {
		if f.ID != finding.EnvFileUnreadable && !strings.HasPrefix(f.Message, "In "+env+": ") {
			out = append(out, f)
		}
	}
	return out
}

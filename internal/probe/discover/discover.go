// Package discover finds, under a project's root, the services that run
// BetterAuth or accept its sessions, each service's env files in the order
// its framework loads them, per hosting environment, and the value each
// BetterAuth variable really has there (which file wins). It reads only
// file names, package manifests and env files; it never runs anything.
package discover

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
)

// Role is what a service does with sessions.
type Role string

const (
	RoleAuth     Role = "auth"     // depends on better-auth: issues sessions
	RoleConsumer Role = "consumer" // another backend: accepts them
)

// Stack is what decides a service's env file load order.
type Stack string

const (
	StackNext    Stack = "next"    // Next.js: @next/env's order per mode
	StackNode    Stack = "node"    // other Node.js
	StackPython  Stack = "python"  // pyproject.toml or requirements.txt
	StackGo      Stack = "go"      // go.mod
	StackWorkers Stack = "workers" // Cloudflare Workers (wrangler.toml)
)

// Environments, in the order they are shown.
const (
	EnvProduction  = "production"
	EnvPreview     = "preview"
	EnvDevelopment = "development"
	// EnvLocal is what a service without per-mode files runs with on a
	// developer's machine (.env.local > .env): the same environment as
	// Next.js's development mode, so the services that run side by side
	// locally are compared together.
	EnvLocal = EnvDevelopment
)

// Options bound the walk.
type Options struct {
	MaxDepth   int // directory levels below the root; 0 means 6
	MaxEntries int // directory entries examined; 0 means 200,000
}

// Project is what a walk found.
type Project struct {
	Root     string    `json:"root"`
	Services []Service `json:"services"`
	Skipped  []Skip    `json:"skipped"`
	Entries  int       `json:"entries"` // directory entries examined
	// Others are the directories holding sources that are not env files
	// (.dev.vars, wrangler.toml, a compose file, .envrc), with those
	// files' names.
	Others map[string][]string `json:"other_sources,omitempty"`
	// Unresolved are the sources Sources left out of the comparison, as
	// "label: why" (their secret is not in any file authtui can read).
	Unresolved []string `json:"unresolved,omitempty"`
}

// Service is one directory that runs code: an auth service or a consumer.
type Service struct {
	Name       string `json:"name"`
	Dir        string `json:"dir"` // slash path relative to the root; "." for the root
	Role       Role   `json:"role"`
	Stack      Stack  `json:"stack"`
	BetterAuth string `json:"better_auth,omitempty"` // installed version, or the range with "(range)"
	// Files are the env files found in the service's directory and its
	// .vercel/, relative to the root.
	Files []string `json:"files"`
	Envs  []Env    `json:"environments"`
}

// Env is one environment of a service: its env files present, the one
// that wins first.
type Env struct {
	Name  string   `json:"name"`
	Files []string `json:"files"`
}

// Skip says what the walk did not look into, and why.
type Skip struct {
	What  string `json:"what"`
	Why   string `json:"why"`
	Count int    `json:"count"`
}

// skipDirs are never worth a look: dependencies, build output, VCS.
var skipDirs = map[string]string{
	"node_modules": "installed dependencies", ".git": "version control",
	".next": "build output", "dist": "build output", "build": "build output", "out": "build output",
	".turbo": "build cache", ".cache": "build cache", "coverage": "test output",
	".venv": "Python virtualenv", "venv": "Python virtualenv", "__pycache__": "Python cache",
	"target": "build output", "vendor": "vendored dependencies", ".svelte-kit": "build output",
	".output": "build output", ".nuxt": "build output", ".wrangler": "Wrangler state",
}

// templates are env files frameworks never load: their values are
// placeholders.
var templates = map[string]bool{".env.example": true, ".env.sample": true, ".env.template": true, ".env.dist": true, ".env.defaults": true}

type dirInfo struct {
	rel      string // slash path
	manifest map[string]bool
	others   []string // names of the non-env-file sources present
	envFiles []string // names, including .vercel/ ones as ".vercel/<name>"
}

// Walk finds the services under root.
func Walk(root string, o Options) (*Project, error) {
	if o.MaxDepth <= 0 {
		o.MaxDepth = 6
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = 200_000
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(abs); err != nil {
		return nil, err
	} else if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", root)
	}
	w := &walker{root: abs, o: o, skips: map[[2]string]int{}}
	w.dir(".", 0, nil)
	p := &Project{Root: abs, Entries: w.entries}
	for _, d := range w.dirs {
		if len(d.others) > 0 {
			if p.Others == nil {
				p.Others = map[string][]string{}
			}
			p.Others[d.rel] = d.others
		}
		if s, ok := w.service(d); ok {
			p.Services = append(p.Services, s)
		}
	}
	sort.Slice(p.Services, func(i, j int) bool { return p.Services[i].Dir < p.Services[j].Dir })
	nameServices(p.Services)
	for k, n := range w.skips {
		p.Skipped = append(p.Skipped, Skip{What: k[0], Why: k[1], Count: n})
	}
	sort.Slice(p.Skipped, func(i, j int) bool {
		a, b := p.Skipped[i], p.Skipped[j]
		return a.What+a.Why < b.What+b.Why
	})
	if w.truncated {
		p.Skipped = append(p.Skipped, Skip{What: "the rest of the tree", Why: fmt.Sprintf("more than %d entries", o.MaxEntries), Count: 1})
	}
	return p, nil
}

type walker struct {
	root      string
	o         Options
	entries   int
	truncated bool
	dirs      []dirInfo
	skips     map[[2]string]int
}

func (w *walker) skip(what, why string) { w.skips[[2]string{what, why}]++ }

func (w *walker) dir(rel string, depth int, ps []gitignore.Pattern) {
	full := filepath.Join(w.root, filepath.FromSlash(rel))
	ents, err := os.ReadDir(full)
	if err != nil {
		w.skip(rel, "unreadable: "+errText(err))
		return
	}
	domain := splitRel(rel)
	if data, err := os.ReadFile(filepath.Join(full, ".gitignore")); err == nil && len(data) < 1<<20 {
		ps = append(ps[:len(ps):len(ps)], parseIgnore(data, domain)...)
	}
	m := gitignore.NewMatcher(ps)
	d := dirInfo{rel: rel, manifest: map[string]bool{}}
	for _, e := range ents {
		if w.entries >= w.o.MaxEntries {
			w.truncated = true
			break
		}
		w.entries++
		name := e.Name()
		childRel := path.Join(rel, name)
		isDir := e.IsDir()
		if e.Type()&fs.ModeSymlink != 0 {
			// A symlink can loop or leave the project: not followed.
			if isEnvName(name) {
				d.envFiles = append(d.envFiles, name)
			}
			continue
		}
		if isDir {
			if why, ok := skipDirs[name]; ok {
				w.skip(name+"/", why)
				continue
			}
			if name == ".vercel" {
				// Gitignored by vercel itself, and where `vercel pull`
				// writes each environment's values.
				d.envFiles = append(d.envFiles, vercelEnvs(filepath.Join(full, name))...)
				continue
			}
			if m.Match(append(domain[:len(domain):len(domain)], name), true) {
				w.skip(childRel+"/", "ignored by .gitignore")
				continue
			}
			if depth+1 > w.o.MaxDepth {
				w.skip(childRel+"/", fmt.Sprintf("deeper than %d levels", w.o.MaxDepth))
				continue
			}
			if strings.HasPrefix(name, ".") {
				w.skip(name+"/", "hidden directory")
				continue
			}
			w.dir(childRel, depth+1, ps)
			continue
		}
		switch {
		case templates[name]:
			w.skip(name, "a template: no framework loads it")
		case unsupported(name) != "":
			w.skip(childRel, "not read: "+unsupported(name))
		case isEnvName(name):
			// Read even when gitignored: env files usually are.
			d.envFiles = append(d.envFiles, name)
		case manifests[name]:
			d.manifest[name] = true
			if otherSources[name] {
				d.others = append(d.others, name)
			}
		}
	}
	w.dirs = append(w.dirs, d)
}

var manifests = map[string]bool{
	"package.json": true, "pyproject.toml": true, "requirements.txt": true, "go.mod": true,
	"wrangler.toml": true, ".dev.vars": true, ".envrc": true,
	"docker-compose.yml": true, "docker-compose.yaml": true, "compose.yaml": true, "compose.yml": true,
}

// otherSources are the manifests ReadExtras reads as sources.
var otherSources = map[string]bool{
	"wrangler.toml": true, ".dev.vars": true, ".envrc": true,
	"docker-compose.yml": true, "docker-compose.yaml": true, "compose.yaml": true, "compose.yml": true,
}

// unsupported says why a source people use is not read (yet).
func unsupported(name string) string {
	switch {
	case name == "wrangler.json" || name == "wrangler.jsonc":
		return "wrangler's JSON configuration (wrangler.toml is read)"
	case strings.HasPrefix(name, ".dev.vars."):
		return "a per-environment .dev.vars (.dev.vars is read)"
	case strings.Contains(name, "compose.override."):
		return "a compose override file (the base compose file is read)"
	}
	return ""
}

func isEnvName(name string) bool {
	return (name == ".env" || strings.HasPrefix(name, ".env.")) && !templates[name]
}

func vercelEnvs(dir string) []string {
	var out []string
	for _, env := range []string{EnvProduction, EnvPreview, EnvDevelopment} {
		name := ".env." + env + ".local"
		if st, err := os.Stat(filepath.Join(dir, name)); err == nil && st.Mode().IsRegular() {
			out = append(out, ".vercel/"+name)
		}
	}
	return out
}

func parseIgnore(data []byte, domain []string) []gitignore.Pattern {
	var ps []gitignore.Pattern
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		ps = append(ps, gitignore.ParsePattern(line, domain))
	}
	return ps
}

func splitRel(rel string) []string {
	if rel == "." || rel == "" {
		return nil
	}
	return strings.Split(rel, "/")
}

func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// service says whether d is a service, and which.
func (w *walker) service(d dirInfo) (Service, bool) {
	s := Service{Dir: d.rel, Role: RoleConsumer}
	switch {
	case d.manifest["package.json"]:
		pkg, ok := readPackage(filepath.Join(w.root, filepath.FromSlash(d.rel), "package.json"))
		if !ok {
			return s, false
		}
		if pkg.workspaceRoot() && len(d.envFiles) == 0 {
			return s, false // a monorepo's root, not a service
		}
		s.Stack = StackNode
		if pkg.dep("next") != "" {
			s.Stack = StackNext
		}
		if d.manifest["wrangler.toml"] {
			s.Stack = StackWorkers
		}
		if r := pkg.dep("better-auth"); r != "" {
			s.Role = RoleAuth
			s.BetterAuth = w.betterAuthVersion(d.rel, r)
		}
		s.Name = pkg.Name
	case d.manifest["pyproject.toml"], d.manifest["requirements.txt"]:
		s.Stack = StackPython
	case d.manifest["go.mod"]:
		s.Stack = StackGo
	case d.manifest["wrangler.toml"]:
		s.Stack = StackWorkers
	default:
		return s, false
	}
	for _, f := range d.envFiles {
		s.Files = append(s.Files, path.Join(d.rel, f))
	}
	sort.Strings(s.Files)
	s.Envs = environments(s.Stack, d.rel, d.envFiles)
	return s, true
}

// environments orders a service's env files per environment, the file
// that wins first. Next.js (@next/env) loads, for mode M,
// .env.M.local > .env.local (not when M is test) > .env.M > .env; a
// deployment on Vercel gets the environment's values from the project
// settings, which `vercel pull` mirrors in .vercel/.env.<env>.local and
// which override every file. Preview deployments build in production
// mode. Other stacks read .env.local > .env.
func environments(st Stack, rel string, names []string) []Env {
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	pick := func(order ...string) []string {
		var out []string
		for _, n := range order {
			if have[n] {
				out = append(out, path.Join(rel, n))
			}
		}
		return out
	}
	var envs []Env
	add := func(name string, files []string, defining ...string) {
		// An environment exists for a service when one of the files that
		// only it loads is there (else it is the same as another).
		for _, d := range defining {
			if have[d] {
				envs = append(envs, Env{Name: name, Files: files})
				return
			}
		}
	}
	if st == StackNext {
		add(EnvProduction, pick(".vercel/.env.production.local", ".env.production.local", ".env.local", ".env.production", ".env"),
			".vercel/.env.production.local", ".env.production.local", ".env.production")
		add(EnvPreview, pick(".vercel/.env.preview.local", ".env.production", ".env"), ".vercel/.env.preview.local")
		add(EnvDevelopment, pick(".env.development.local", ".env.local", ".env.development", ".env"),
			".env.development.local", ".env.local", ".env.development", ".env")
		return envs
	}
	add(EnvProduction, pick(".vercel/.env.production.local", ".env.production", ".env"), ".vercel/.env.production.local", ".env.production")
	add(EnvPreview, pick(".vercel/.env.preview.local", ".env"), ".vercel/.env.preview.local")
	add(EnvDevelopment, pick(".env.local", ".env"), ".env.local", ".env")
	return envs
}

type packageJSON struct {
	Name            string            `json:"name"`
	Dependencies    map[string]string `json:"dependencies"`
	DevDependencies map[string]string `json:"devDependencies"`
	Workspaces      json.RawMessage   `json:"workspaces"`
}

func (p packageJSON) dep(name string) string {
	if v := p.Dependencies[name]; v != "" {
		return v
	}
	return p.DevDependencies[name]
}

func (p packageJSON) workspaceRoot() bool {
	return len(p.Workspaces) > 0 && string(p.Workspaces) != "null"
}

func readPackage(file string) (packageJSON, bool) {
	var p packageJSON
	data, err := os.ReadFile(file)
	if err != nil || len(data) > 4<<20 {
		return p, false
	}
	return p, json.Unmarshal(data, &p) == nil
}

// betterAuthVersion is the installed version (node_modules of the service
// or of an ancestor up to the root, where a monorepo hoists it), else the
// lockfile's, else the range package.json asks for.
func (w *walker) betterAuthVersion(rel, want string) string {
	for dir := rel; ; dir = path.Dir(dir) {
		base := filepath.Join(w.root, filepath.FromSlash(dir))
		var installed struct{ Version string }
		if data, err := os.ReadFile(filepath.Join(base, "node_modules", "better-auth", "package.json")); err == nil &&
			json.Unmarshal(data, &installed) == nil && installed.Version != "" {
			return installed.Version
		}
		if v := lockVersion(filepath.Join(base, "package-lock.json")); v != "" {
			return v
		}
		if dir == "." || dir == "/" || dir == "" {
			break
		}
	}
	return want + " (range in package.json)"
}

func lockVersion(file string) string {
	data, err := os.ReadFile(file)
	if err != nil || len(data) > 64<<20 {
		return ""
	}
	var lock struct {
		Packages map[string]struct{ Version string } `json:"packages"`
	}
	if json.Unmarshal(data, &lock) != nil {
		return ""
	}
	return lock.Packages["node_modules/better-auth"].Version
}

// nameServices gives each service a short unique name: its package name,
// else its directory's base name, else the path.
func nameServices(ss []Service) {
	count := map[string]int{}
	for i := range ss {
		if ss[i].Name == "" {
			ss[i].Name = path.Base(ss[i].Dir)
			if ss[i].Dir == "." {
				ss[i].Name = "root"
			}
		}
		count[ss[i].Name]++
	}
	for i := range ss {
		if count[ss[i].Name] > 1 {
			ss[i].Name = ss[i].Dir
		}
	}
}

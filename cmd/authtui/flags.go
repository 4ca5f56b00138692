package main

import (
	"os"
	"path/filepath"

	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/authtui/authtui/internal/probe/discover"
	"github.com/authtui/authtui/internal/probe/jwtcheck"
	"github.com/authtui/authtui/internal/probe/login"
	"github.com/authtui/authtui/internal/probe/project"

	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/finding"
)

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// durationFlag is a duration flag that must be positive: a zero or
// negative timeout would make every network step fail at once (or, as a
// context deadline, never bound it), so it is a usage error.
type durationFlag struct{ d *time.Duration }

func (f durationFlag) String() string {
	if f.d == nil {
		return "0s"
	}
	return f.d.String()
}

func (f durationFlag) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("not a duration (e.g. 10s, 500ms, 1m)")
	}
	if d <= 0 {
		return errors.New("must be positive (e.g. 10s)")
	}
	*f.d = d
	return nil
}

// common holds the flags every command shares.
type common struct {
	envFiles    listFlag
	json        bool
	noColor     bool
	config      string // --config: a project file instead of the one found upward
	environment string // --environment: which of the project's environments

	// plan is the project: authtui.toml merged with what discovery found
	// under its root (or the working directory). Built once the flags are
	// parsed; nil when --env-file names the sources.
	plan *project.Plan
}

func (c *common) register(fs *flag.FlagSet) {
	fs.Var(&c.envFiles, "env-file", "env file to read as a source, labelled by this path (repeatable; default: .env and .env.local)")
	fs.BoolVar(&c.json, "json", false, "print JSON instead of text")
	fs.BoolVar(&c.noColor, "no-color", false, "no colour in text output (also: NO_COLOR)")
	fs.StringVar(&c.config, "config", "", "project file to use (default: authtui.toml here or in a parent directory)")
	fs.StringVar(&c.environment, "environment", "", "environment of the project to use: development (local), preview, production, compose (default: the project file's, else development)")
	// A file named on the command line that cannot be read is the caller's
	// mistake: exit 2 before any work, for every command. The default
	// .env and .env.local, found by looking, stay findings (exit 1).
	if fc := flagCtxOf(fs); fc != nil {
		fc.checks = append(fc.checks, func() error {
			for _, p := range c.envFiles {
				if err := probe.CheckEnvFile(p, fc.a.dir); err != nil {
					return usagef("--env-file %s: %v", p, err)
				}
			}
			return c.buildPlan(fc.a)
		})
	}
}

// buildPlan finds the project: with --env-file only a project file named
// by --config or found upward (for its declared URLs); without, also the
// services discovered under its root. A project file that cannot be read
// is the caller's to fix: a usage error naming line and column.
func (c *common) buildPlan(a *app) error {
	if c.config != "" {
		if _, err := os.Stat(c.resolvePath(a, c.config)); err != nil {
			return usagef("--config %s: %v", c.config, errNoPath(err))
		}
	}
	plan, err := project.Build(project.Options{Dir: a.dir, Config: c.config})
	if err != nil {
		return usagef("%v", err)
	}
	switch c.environment {
	case "local":
		c.environment = discover.EnvDevelopment
	case "", discover.EnvDevelopment, discover.EnvPreview, discover.EnvProduction, discover.EnvCompose:
	default:
		return usagef("--environment %q: use development (or local), preview, production or compose", c.environment)
	}
	if len(c.envFiles) > 0 && plan.File == "" {
		return nil // the sources are named: nothing to discover
	}
	c.plan = plan
	return nil
}

func (c *common) resolvePath(a *app, p string) string {
	if a.dir != "" && !filepath.IsAbs(p) {
		return filepath.Join(a.dir, p)
	}
	return p
}

// discovered says the sources come from the project (no --env-file) and
// the project has some.
func (c *common) discovered() bool {
	return len(c.envFiles) == 0 && c.plan != nil && !c.plan.Empty()
}

// env is the project environment the command works in.
func (c *common) env() string {
	if c.environment != "" {
		return c.environment
	}
	if c.plan != nil {
		return c.plan.Environment()
	}
	return ""
}

// declared is what the project file says, for probe.Resolve.
func (c *common) declared() probe.Declared {
	if c.plan == nil {
		return probe.Declared{}
	}
	return c.plan.Declared()
}

// loadSources reads the env sources: the files --env-file names, else
// the project's services in its environment, else .env and .env.local
// here.
func (c *common) loadSources(a *app) ([]probe.Source, finding.List) {
	if c.discovered() {
		return c.plan.Sources(c.env(), a.environ)
	}
	return probe.LoadSources(probe.SourceOptions{EnvFiles: c.envFiles, Dir: a.dir, Environ: a.environ})
}

func (c *common) colors(a *app) bool {
	return !c.noColor && !c.json && a.stdoutIsTTY && a.getenv("NO_COLOR") == ""
}

// flagCtx travels with a command's FlagSet as its output, the one place
// a FlagSet carries a value of ours: the flag package prints its own
// error lines and calls Usage there, which it discards (main reports a
// usage error once, on stderr), while parseInterleaved finds the
// command's help and the checks its flags registered.
type flagCtx struct {
	a      *app
	help   func()
	checks []func() error // run once the flags are parsed; an error is a usage error
}

func (*flagCtx) Write(p []byte) (int, error) { return len(p), nil }

func flagCtxOf(fs *flag.FlagSet) *flagCtx {
	fc, _ := fs.Output().(*flagCtx)
	return fc
}

// newFlagSet builds a FlagSet whose --help prints to stdout (once) and
// exits 0, and whose errors become usage errors (exit 2).
func newFlagSet(a *app, name, synopsis, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fc := &flagCtx{a: a}
	fc.help = func() {
		w := a.stdout
		fmt.Fprintf(w, "Usage: authtui %s\n\n%s\n\nFlags:\n", synopsis, strings.TrimSpace(about))
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(fc)
	}
	fs.SetOutput(fc)
	// The flag package calls Usage by itself on -help and on every parse
	// error; parseInterleaved prints the help, on --help only.
	fs.Usage = func() {}
	return fs
}

var errHelp = errors.New("help shown")

// parseInterleaved parses flags that may come before or after positional
// arguments, as users of git and kubectl expect, then runs the checks the
// flags registered.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				if fc := flagCtxOf(fs); fc != nil {
					fc.help()
				}
				return nil, errHelp
			}
			return nil, usagef("%v", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		if args[0] == "--" {
			pos = append(pos, args[1:]...)
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if fc := flagCtxOf(fs); fc != nil {
		for _, check := range fc.checks {
			if err := check(); err != nil {
				return nil, err
			}
		}
	}
	return pos, nil
}

// moreAPIs are the declared API endpoints besides the one the run tests
// first (--api-url, or the first declared): the login flow presents the
// session to each of them too.
func (c *common) moreAPIs(cfg probe.Config) []login.API {
	if c.plan == nil {
		return nil
	}
	var out []login.API
	seen := map[string]bool{cfg.APIURL.Value: true}
	for _, s := range c.plan.Services {
		u := strings.TrimSpace(s.APIURL)
		if u != "" && !seen[u] {
			seen[u] = true
			out = append(out, login.API{Name: s.Name, URL: u})
		}
	}
	return out
}

// otherEnvFindings are what comparing the project's services finds in the
// environments the run does not use (Preview holding Production's
// secret while development works): evidence the verdict must weigh, or a
// healthy run in one environment would read as a healthy project.
func (c *common) otherEnvFindings() finding.List {
	if !c.discovered() {
		return nil
	}
	_, _, fs := c.plan.Compare()
	return project.OtherEnvs(fs, c.env())
}

// otherEnvBaseURLs are the base URLs every service of a discovered
// project sets in the environments the run does not use, labelled
// "BETTER_AUTH_URL of auth (preview)": a social sign-in's redirect_uri
// built from one of them (Preview's URL while checking Production) is
// named as such.
func (c *common) otherEnvBaseURLs() []login.SourcedURL {
	if !c.discovered() {
		return nil
	}
	all, _ := c.plan.AllSources()
	var out []login.SourcedURL
	for _, s := range all {
		if s.Env == c.env() || !s.Source.Loaded() {
			continue
		}
		if name, v, ok := s.Source.FirstSet(probe.BaseURLVars); ok && strings.TrimSpace(v) != "" {
			out = append(out, login.SourcedURL{Label: name + " of " + s.Service + " (" + s.Env + ")", URL: strings.TrimSpace(v), Env: s.Env})
		}
	}
	return out
}

// cookiePrefix is the project file's cookie_prefix, for a --cookie-prefix
// left empty.
func (c *common) cookiePrefix() string {
	if c.plan == nil {
		return ""
	}
	return c.plan.Settings.CookiePrefix
}

// jwtAudiences are the aud values the project's services declare
// (jwt_audience in authtui.toml), for the login flow's JWT check.
func (c *common) jwtAudiences() []jwtcheck.Expected {
	if c.plan == nil {
		return nil
	}
	var out []jwtcheck.Expected
	for _, s := range c.plan.Services {
		if a := strings.TrimSpace(s.JWTAudience); a != "" {
			out = append(out, jwtcheck.Expected{Label: s.Name + " (jwt_audience in " + project.FileName + ")", Value: a})
		}
	}
	return out
}

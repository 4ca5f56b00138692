// Package ui is the Bubble Tea console: a root model that routes messages
// and lays out five panes (secrets, database, sessions, cookie inspector,
// login flow), each of which owns its state, keys and view. All I/O runs in
// tea.Cmds built from the probes in internal/probe.
package ui

import (
	"strings"
	"time"

	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/check"
	"github.com/authtui/authtui/internal/probe/database"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/login"
	"github.com/authtui/authtui/internal/report"
)

// Config is what the console was started with: the flags of `authtui check`.
type Config struct {
	EnvFiles []string // --env-file; empty means .env and .env.local in Dir
	Dir      string
	Environ  []string // the process environment, for the `env` source

	// LoadSources, when set, reads the sources instead of EnvFiles (a
	// discovered project: its services in one environment); EnvFiles
	// then lists the files it reads, for change polling.
	LoadSources func() ([]probe.Source, finding.List)
	// Matrix, when set, compares the project's services across its
	// environments (report.Matrix) with the findings of that comparison;
	// the secrets pane shows it above the sources it works from.
	Matrix func() (report.Block, finding.List)
	// Environment is the project environment the sources are of.
	Environment string
	// Declared are the project file's values, below the flags.
	Declared probe.Declared

	Database    database.Options // URL: --database-url only; DATABASE_URL of the env files arrives with SecretsLoadedMsg
	StoreURL    string           // --redis-url; REDIS_URL & co. of the env files are resolved with them
	AllowWrites bool

	Login login.Options // BaseURL, Origin, Email, Password, APIURL, Timeout, CookiePrefix; candidates and DB are filled live
	// Browser are the settings of the login pane's b (a sign-in in
	// Chrome): --chrome, --frontend-url, --host-resolver-rules, --insecure.
	Browser check.BrowserOptions

	TailFile string // --tail: a log file of the auth service to follow
	TailCmd  string // --tail-cmd: a command whose output to follow

	Timeout time.Duration
	NoColor bool
	Version string

	// Intervals, overridable by tests.
	SecretsPoll   time.Duration // how often env files are checked for changes
	DBInterval    time.Duration // database health refresh
	SessionsEvery time.Duration // base sessions refresh; backs off when slow
}

func (c *Config) defaults() {
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.SecretsPoll <= 0 {
		c.SecretsPoll = 2 * time.Second
	}
	if c.DBInterval <= 0 {
		c.DBInterval = 3 * time.Second
	}
	if c.SessionsEvery <= 0 {
		c.SessionsEvery = 3 * time.Second
	}
}

// flags are the command-line values the one resolver starts from.
func (c *Config) flags() probe.Flags {
	return probe.Flags{
		BaseURL: c.Login.BaseURL, Origin: c.Login.Origin, APIURL: c.Login.APIURL,
		DatabaseURL: c.Database.URL, StoreURL: c.StoreURL, Timeout: c.Timeout, Declared: c.Declared,
	}
}

// sources reads the env sources the console works from.
func (c *Config) sources() ([]probe.Source, finding.List) {
	if c.LoadSources != nil {
		return c.LoadSources()
	}
	return probe.LoadSources(probe.SourceOptions{EnvFiles: c.EnvFiles, Dir: c.Dir, Environ: c.Environ})
}

// getenv reads the process environment the console was started with.
func (c *Config) getenv(name string) string {
	for _, kv := range c.Environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v
		}
	}
	return ""
}

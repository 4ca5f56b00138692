package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/login"
	"github.com/authtui/authtui/internal/probe/project"
	"github.com/authtui/authtui/internal/report"
	"github.com/authtui/authtui/internal/ui"
)

// The console's --tail-cmd runs under a supervisor that is this binary,
// re-executed in a hidden mode (see ui.TailSupervisorMain): that mode is
// taken here, before main reads the arguments.
func init() { ui.TailSupervisorMain() }

// runTUI opens the console. It takes the flags of `check`, plus the ones
// only the console has.
func runTUI(a *app, args []string) (int, error) {
	var (
		c                 common
		d                 dbFlags
		l                 loginFlags
		tailFile, tailCmd string
		tailEnv           listFlag
		bf                browserFlags
	)
	fs := newFlagSet(a, "", "[flags]", `
Open the console: live panes for secrets, database health, sessions, a
cookie inspector (paste a Cookie or Set-Cookie header, a bearer token, a
curl command) and a test login flow that ends in a diagnosis. Press ? in the
console for its keys. For scripts and CI use the commands instead
(authtui check --json).

Example:
  authtui --env-file auth/.env --env-file api/.env --api-url http://localhost:4000/me`)
	c.register(fs)
	d.register(fs)
	l.register(fs)
	bf.register(fs, false)
	fs.BoolVar(&d.allowWrites, "allow-writes", false, "allow writes to the database (revoking sessions); read-only otherwise")
	fs.StringVar(&tailFile, "tail", "", "follow this log file of the auth service in the login pane")
	fs.StringVar(&tailCmd, "tail-cmd", "", "follow the output of this command (e.g. 'vercel logs …') in the login pane; it runs without the --password-env variable, database and store URLs and BetterAuth's variables, and ends with the console")
	fs.Var(&tailEnv, "tail-env", "pass this environment variable to the --tail-cmd command, though authtui withholds it (repeatable)")
	if code, err := parseNoArgs(fs, args); err != nil || code >= 0 {
		return max(code, 0), err
	}
	if l.social == "" && (l.providerAuto || l.callbackURL != "") {
		return exitUsage, usagef("--provider-auto and --callback-url go with --social PROVIDER")
	}
	if !a.stdinIsTTY || !a.stdoutIsTTY {
		return exitUsage, usagef("the console needs a terminal; for scripts use `authtui check` (add --json)")
	}
	// The database URL of the env files (or the environment) reaches the
	// console with its first read of them, labelled with where it came from.
	cfg := ui.Config{
		EnvFiles: c.envFiles, Dir: a.dir, Environ: a.environ,
		Database:    d.options(d.url),
		StoreURL:    d.storeURL,
		AllowWrites: d.allowWrites,
		Login: login.Options{
			BaseURL: l.baseURL, Origin: l.origin, Email: l.email, APIURL: l.apiURL,
			Timeout: d.timeout, CookiePrefix: l.cookiePrefix, ReplaySession: l.replay,
			KeepSession: l.keepSession, BasePath: l.normBasePath(),
			Social: login.Social{Provider: l.social, Auto: l.providerAuto, CallbackURL: l.callbackURL},
		},
		Browser:  *bf.options(true),
		TailFile: tailFile, TailCmd: tailCmd,
		Timeout: d.timeout, NoColor: c.noColor || a.getenv("NO_COLOR") != "",
		Version: versionString(),
	}
	if c.discovered() {
		// The project's services in its environment, labelled by service.
		plan, env, environ := c.plan, c.env(), a.environ
		cfg.LoadSources = func() ([]probe.Source, finding.List) { return plan.Sources(env, environ) }
		cfg.Matrix = func() (report.Block, finding.List) {
			all, reports, fs := plan.Compare()
			return report.Matrix(all, reports), project.OtherEnvs(fs, env)
		}
		cfg.EnvFiles = plan.Files()
		cfg.Environment = env
	}
	cfg.Declared = c.declared()
	cfg.Login.JWTAudiences = c.jwtAudiences()
	cfg.Login.Social.BaseURLs = c.otherEnvBaseURLs()
	cfg.Login.MoreAPIs = c.moreAPIs(probe.Resolve(probe.Flags{APIURL: l.apiURL, Declared: cfg.Declared}, nil, nil))
	if cfg.Login.CookiePrefix == "" {
		cfg.Login.CookiePrefix = c.cookiePrefix()
	}
	if l.email != "" && l.passwordEnv != "" {
		cfg.Login.Password = a.getenv(l.passwordEnv)
	}
	// The console has read what it needs of the environment (cfg.Environ
	// keeps a copy for the env source): its children, the --tail-cmd
	// command first, inherit it without the credentials.
	withholdFromChildren(os.Environ(), l.passwordEnv, tailEnv)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	opts := []tea.ProgramOption{tea.WithContext(ctx)}
	if cfg.NoColor {
		opts = append(opts, tea.WithColorProfile(colorprofile.Ascii))
	}
	model := ui.New(cfg)
	defer model.Close()
	_, err := tea.NewProgram(model, opts...).Run()
	switch {
	case err == nil, ctx.Err() != nil:
	case errors.Is(err, tea.ErrInterrupted):
		// An external SIGINT (kill -INT, a supervisor stopping the
		// console) asks it to quit, as q does: that found no error.
	default:
		return exitFound, fmt.Errorf("console: %w", err)
	}
	return exitOK, nil
}

// withholdFromChildren removes from this process's environment what the
// console's children must not inherit: the test password (the variable
// --password-env names), the database and store URLs, and BetterAuth's
// variables. The --tail-cmd command, a log tool, needs none of them; a
// name given with --tail-env is kept all the same. PG* variables stay:
// pgx reads them at every reconnect of the console's own database pool.
func withholdFromChildren(environ []string, passwordEnv string, keep []string) {
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if withheld(name, passwordEnv) && !inList(keep, name) {
			os.Unsetenv(name)
		}
	}
}

// withheld says whether the console's children must not see variable name.
func withheld(name, passwordEnv string) bool {
	upper := strings.ToUpper(name)
	switch {
	case passwordEnv != "" && name == passwordEnv:
		return true
	case inList(probe.SecretVars, upper), strings.Contains(upper, "BETTER_AUTH"):
		return true
	case upper == "DATABASE_URL", strings.HasPrefix(upper, "DATABASE_URL_"), strings.HasSuffix(upper, "_DATABASE_URL"),
		upper == "DIRECT_URL", strings.HasPrefix(upper, "POSTGRES_"):
		return true
	case strings.HasPrefix(upper, "REDIS_"), strings.HasSuffix(upper, "_REDIS_URL"), strings.HasPrefix(upper, "KV_"),
		strings.HasPrefix(upper, "UPSTASH_"), strings.HasPrefix(upper, "MONGODB_"), upper == "MONGO_URL":
		return true
	}
	return false
}

func inList(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

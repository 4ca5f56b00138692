package main

import (
	"context"
	"fmt"
	"os/signal"
	"syscall"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/authtui/authtui/internal/probe/login"
	"github.com/authtui/authtui/internal/ui"
)

// runTUI opens the console. It takes the flags of `check`, plus the ones
// only the console has.
func runTUI(a *app, args []string) (int, error) {
	var (
		c                 common
		d                 dbFlags
		l                 loginFlags
		tailFile, tailCmd string
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
	fs.BoolVar(&d.allowWrites, "allow-writes", false, "allow writes to the database (revoking sessions); read-only otherwise")
	fs.StringVar(&tailFile, "tail", "", "follow this log file of the auth service in the login pane")
	fs.StringVar(&tailCmd, "tail-cmd", "", "follow the output of this command (e.g. 'vercel logs …') in the login pane")
	if code, err := parseNoArgs(fs, args); err != nil || code >= 0 {
		return max(code, 0), err
	}
	if !a.stdinIsTTY || !a.stdoutIsTTY {
		return exitUsage, usagef("the console needs a terminal; for scripts use `authtui check` (add --json)")
	}
	// The database URL of the env files (or the environment) reaches the
	// console with its first read of them, labelled with where it came from.
	cfg := ui.Config{
		EnvFiles: c.envFiles, Dir: a.dir, Environ: a.environ,
		Database:    d.options(d.url),
		AllowWrites: d.allowWrites,
		Login: login.Options{
			BaseURL: l.baseURL, Origin: l.origin, Email: l.email, APIURL: l.apiURL,
			Timeout: d.timeout, CookiePrefix: l.cookiePrefix, ReplaySession: l.replay,
		},
		TailFile: tailFile, TailCmd: tailCmd,
		Timeout: d.timeout, NoColor: c.noColor || a.getenv("NO_COLOR") != "",
		Version: versionString(),
	}
	if l.email != "" && l.passwordEnv != "" {
		cfg.Login.Password = a.getenv(l.passwordEnv)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	opts := []tea.ProgramOption{tea.WithContext(ctx)}
	if cfg.NoColor {
		opts = append(opts, tea.WithColorProfile(colorprofile.Ascii))
	}
	model := ui.New(cfg)
	defer model.Close()
	if _, err := tea.NewProgram(model, opts...).Run(); err != nil && ctx.Err() == nil {
		return exitFound, fmt.Errorf("console: %w", err)
	}
	return exitOK, nil
}

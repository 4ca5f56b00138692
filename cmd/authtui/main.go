// Command authtui is a terminal debugging console for BetterAuth sessions:
// which secret signed a cookie, which service disagrees, and why the
// session comes back null.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"golang.org/x/term"
)

// version is set by the Makefile (-ldflags "-X main.version=…"); a plain
// go build falls back to the module's build info.
var version = ""

// Exit codes, the same for every command.
const (
	exitOK    = 0 // no error finding
	exitFound = 1 // at least one error finding
	exitUsage = 2 // bad flags or unreadable input
)

// errUsage marks errors that are the caller's: exit 2.
var errUsage = errors.New("usage")

type usageError struct{ msg string }

func (e usageError) Error() string   { return e.msg }
func (e usageError) Is(t error) bool { return t == errUsage }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(app *app, args []string) (int, error)
}

func commands() []command {
	return []command{
		{"secrets", "compare BetterAuth secrets across env sources (by fingerprint)", runSecrets},
		{"decode", "decode and verify pasted cookies, Set-Cookie lines or bearer tokens", runDecode},
		{"check", "run every configured probe and diagnose why sessions are null", runCheck},
		{"login", "test sign-in against the auth service, following the session step by step", runLogin},
		{"sessions", "list BetterAuth sessions, newest first (read-only)", runSessions},
		{"db", "check the database: reachability, latency, TLS, schema", runDB},
		{"browser", "sign in from the front end's origin in a real Chrome and say why cookies are refused", runBrowser},
		{"init", "discover the project's services and write authtui.toml", runInit},
		{"version", "print the version", func(a *app, _ []string) (int, error) {
			fmt.Fprintln(a.stdout, versionString())
			return exitOK, nil
		}},
	}
}

// app carries the process's streams and environment, so tests run commands
// in-process with their own.
type app struct {
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
	environ []string
	dir     string
	// stdinIsTTY says whether stdin is an interactive terminal; decode reads
	// stdin by itself only when it is not.
	stdinIsTTY  bool
	stdoutIsTTY bool
	getenv      func(string) string
}

func main() {
	a := &app{
		stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr,
		environ: os.Environ(), getenv: os.Getenv,
		stdinIsTTY: isTerminal(os.Stdin), stdoutIsTTY: isTerminal(os.Stdout),
	}
	os.Exit(a.main(os.Args[1:]))
}

// isTerminal asks the terminal driver: a character device is not enough
// (/dev/null is one, and `< /dev/null` must not count as a person).
func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

func (a *app) main(args []string) int {
	if len(args) == 0 || (len(args[0]) > 1 && args[0][0] == '-' && !isHelpOrVersion(args[0])) {
		code, err := runTUI(a, args)
		if err != nil {
			fmt.Fprintf(a.stderr, "authtui: %s\n", errorText(err))
			if code == exitUsage {
				fmt.Fprintln(a.stderr, "Run 'authtui --help' for usage.")
			}
		}
		return code
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 {
			return a.main([]string{args[1], "--help"})
		}
		a.rootUsage(a.stdout)
		return exitOK
	case "-version", "--version", "-v":
		fmt.Fprintln(a.stdout, versionString())
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			code, err := c.run(a, args[1:])
			if err != nil {
				fmt.Fprintf(a.stderr, "authtui %s: %s\n", c.name, errorText(err))
				if errors.Is(err, errUsage) {
					fmt.Fprintf(a.stderr, "Run 'authtui %s --help' for usage.\n", c.name)
					return exitUsage
				}
				return exitFound
			}
			return code
		}
	}
	fmt.Fprintf(a.stderr, "authtui: unknown command %q\n\n", args[0])
	a.rootUsage(a.stderr)
	return exitUsage
}

func isHelpOrVersion(s string) bool {
	switch s {
	case "-h", "-help", "--help", "-version", "--version", "-v":
		return true
	}
	return false
}

func (a *app) rootUsage(w io.Writer) {
	fmt.Fprintf(w, `authtui debugs BetterAuth sessions: which secret signed a cookie, which
service disagrees, and why get-session answers null.

Usage:
  authtui [flags]             open the console (flags as for check, plus
                              --allow-writes, --tail FILE, --tail-cmd CMD,
                              --tail-env NAME)
  authtui <command> [flags]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, `
Every command reads env files (--env-file, repeatable; default .env and
.env.local) and the process environment, takes --json, and exits 0 when it
found no error, 1 when it did, 2 on a usage error.
Secrets are never printed: they are compared by fingerprint.

Run 'authtui <command> --help' for a command's flags.
`)
}

func versionString() string {
	v := version
	if v == "" {
		v = "devel"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
	}
	return "authtui " + v
}

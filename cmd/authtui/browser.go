package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"github.com/authtui/authtui/internal/probe/browser"
	"github.com/authtui/authtui/internal/probe/check"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/report"
)

// browserFlags are the browser run's own flags: on `authtui browser`, and
// on check and login behind --browser.
type browserFlags struct {
	on                                bool // --browser (check, login)
	chrome, frontendURL, resolveRules string
	insecure, headed                  bool
}

func (b *browserFlags) register(fs *flag.FlagSet, withSwitch bool) {
	if withSwitch {
		fs.BoolVar(&b.on, "browser", false, "also sign in from the front end's origin in a real headless Chrome and report what Chrome itself says of each cookie (see authtui browser -h)")
	}
	fs.StringVar(&b.chrome, "chrome", "", "the Chrome or Chromium binary (default: chromium, google-chrome, … on PATH)")
	fs.StringVar(&b.frontendURL, "frontend-url", "", "load the real front end at this URL and sign in from its page (default: a blank page put on --origin, no front end needed)")
	fs.StringVar(&b.resolveRules, "host-resolver-rules", "", `Chrome's host mapping, e.g. "MAP app.example.test 127.0.0.1, MAP auth.example.test 127.0.0.1"`)
	fs.BoolVar(&b.insecure, "insecure", false, "let Chrome accept any TLS certificate (a local test certificate); Chrome still treats the origin as https")
	fs.BoolVar(&b.headed, "headed", false, "with --social: open a visible Chrome window in which you sign in at the provider, while authtui watches every hop, cookie and refusal (needs a display)")
}

// options are the pipeline's browser options; nil when no browser run
// was asked for (with withSwitch: --browser).
func (b *browserFlags) options(always bool) *check.BrowserOptions {
	if !always && !b.on {
		return nil
	}
	return &check.BrowserOptions{Chrome: b.chrome, FrontendURL: b.frontendURL, HostResolverRules: b.resolveRules, IgnoreCertErrors: b.insecure, Headed: b.headed}
}

// usable checks, before anything runs, that a browser can: a clear
// message (exit 2) naming what was searched when none is found.
func (b *browserFlags) usable() error {
	if _, err := browser.Find(b.chrome); err != nil {
		return usagef("%v", err)
	}
	return nil
}

func runBrowser(a *app, args []string) (int, error) {
	var (
		c  common
		d  dbFlags
		l  loginFlags
		bf browserFlags
		o  outputFlags
	)
	fs := newFlagSet(a, "browser", "browser --origin ORIGIN --email EMAIL --password-env VAR [flags]", `
Sign in from the front end's origin in a real headless Chrome or Chromium,
as BetterAuth's client does (fetch with credentials: "include"), then call
get-session and your API the same way, and report what Chrome itself says:
each cookie stored or refused and why, sent or withheld and why, CORS
errors, and the final cookie jar with partition keys, under Chrome's own
reason names. It runs twice: with third-party cookies allowed, then blocked
(Safari, Brave, Chrome with them off). Where Chrome and authtui's own
Set-Cookie analysis disagree, it says so: the browser wins.

The page is put on the origin by the DevTools protocol, so no front end
needs to run (--frontend-url loads the real one instead). Chrome gets a
fresh temporary profile, removed afterwards, and runs in a process group of
its own that is killed at the end, on Ctrl-C and on timeout.

With --social PROVIDER the page starts BetterAuth's social sign-in instead,
as its client does (fetch sign-in/social, then a navigation to the
provider), and Chrome follows every hop itself: the provider, the callback,
the landing page; the state cookie's fate is Chrome's to tell. A test
provider signs in by itself; with a real one, --headed opens a visible
window in which you sign in while authtui watches.

check --browser and login --browser run the same after their login flow.

Examples:
  TEST_PW=… authtui browser --env-file auth/.env --origin http://localhost:5173 --email test@example.com --password-env TEST_PW
  authtui browser --base-url https://auth.example.test:8443 --origin https://app.example.test \
    --host-resolver-rules "MAP *.example.test 127.0.0.1" --insecure --email … --password-env TEST_PW`)
	c.register(fs)
	d.register(fs)
	l.register(fs)
	bf.register(fs, false)
	o.register(fs)
	if code, err := parseNoArgs(fs, args); err != nil || code >= 0 {
		return max(code, 0), err
	}
	if err := o.validate(&c); err != nil {
		return exitUsage, err
	}
	if (l.email == "" && l.social == "") || l.replay != "" {
		return exitUsage, usagef("pass --email and --password-env (the browser signs in as that test user), or --social PROVIDER; a replayed session cannot be typed into a page")
	}
	if bf.headed && l.social == "" {
		return exitUsage, usagef("--headed goes with --social: a visible window in which you sign in at the provider")
	}
	cfg, loadFs := resolve(a, &c, &d, &l)
	if !cfg.BaseURL.Set() {
		return exitUsage, usagef("no auth service URL: pass --base-url or set BETTER_AUTH_URL in an env file")
	}
	if strings.TrimSpace(l.origin) == "" && bf.frontendURL == "" && strings.HasPrefix(cfg.Origin.From, "the base URL") {
		return exitUsage, usagef("pass --origin (the front end's origin the sign-in runs from, e.g. http://localhost:5173) or --frontend-url")
	}
	if err := bf.usable(); err != nil {
		return exitUsage, err
	}
	opts, err := l.checkOptions(a, cfg, loadFs, &d)
	if err != nil {
		return exitUsage, err
	}
	opts.NoLogin, opts.Browser = true, bf.options(true)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	st := newStyle(c.colors(a))
	started := false
	rep := runPipeline(ctx, opts, func(e check.Event) {
		switch {
		case e.Browser == nil, o.markdown:
		case c.json:
			writeJSONLine(a.stdout, e.Browser)
		case e.Browser.Phase == "end":
			writeBrowserPass(a, st, *e.Browser.Pass, !started)
			started = true
		}
	})
	if rep.BrowserError != "" {
		// The browser could not run at all (an origin it cannot use, no
		// display for --headed): no verdict from it, said as an error.
		return exitUsage, usagef("%s", rep.BrowserError)
	}
	switch {
	case c.json:
		return exitOf(rep), writeJSONLine(a.stdout, browserSummary(rep))
	case o.markdown:
		return exitOf(rep), writeMarkdown(a, rep)
	}
	if started {
		fmt.Fprintln(a.stdout)
	}
	writeEnd(a.stdout, st, rep)
	return exitOf(rep), nil
}

// writeBrowserPass prints one finished pass, under the "Browser" heading
// before the first: the lines report.Browser has for it.
func writeBrowserPass(a *app, st style, p browser.Pass, title bool) {
	lines := report.Layout([]report.Block{{Title: "Browser", Lines: report.BrowserPass(p)}}, 0, st.reportPaint)
	if !title {
		lines = lines[1:]
	}
	for _, l := range lines {
		fmt.Fprintln(a.stdout, l)
	}
}

// browserSummary is the last line of `browser --json`, after one line
// per pass event: the run, its findings and the verdict, as login --json
// ends with its summary.
func browserSummary(rep *check.Report) any {
	return struct {
		Summary   bool            `json:"summary"`
		Browser   *browser.Result `json:"browser"`
		Skipped   []string        `json:"skipped"`
		Findings  finding.List    `json:"findings"`
		Verdict   check.Verdict   `json:"verdict"`
		Healthy   bool            `json:"healthy"`
		Cancelled bool            `json:"cancelled,omitempty"`
	}{true, rep.Browser, rep.Skipped, rep.Findings, rep.Verdict, rep.Healthy, rep.Cancelled}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"github.com/authtui/authtui/internal/probe/browser"
	"github.com/authtui/authtui/internal/probe/textsafe"
	"github.com/authtui/authtui/internal/report"
)

func runBrowser(a *app, args []string) (int, error) {
	var (
		c      common
		d      dbFlags
		l      loginFlags
		chrome string
	)
	fs := newFlagSet(a, "browser", "browser --origin ORIGIN --email EMAIL --password-env VAR [flags]", `
Sign in from the front end's origin in a real headless Chrome or Chromium,
as BetterAuth's client does (fetch with credentials: "include"), and report
what Chrome itself says: each cookie stored or refused and why, sent or
withheld and why, and CORS errors, under Chrome's own reason names. It runs
twice: with third-party cookies allowed, then blocked (Safari, Brave, Chrome
with them off). The page is put on the origin by the DevTools protocol: no
front end needs to run. Chrome gets a fresh temporary profile, removed
afterwards.

Example:
  TEST_PW=… authtui browser --env-file auth/.env --origin http://localhost:5173 --email test@example.com --password-env TEST_PW`)
	c.register(fs)
	d.register(fs)
	l.register(fs)
	fs.StringVar(&chrome, "chrome", "", "the Chrome or Chromium binary (default: chromium, google-chrome, … on PATH)")
	if code, err := parseNoArgs(fs, args); err != nil || code >= 0 {
		return max(code, 0), err
	}
	if l.email == "" {
		return exitUsage, usagef("pass --email and --password-env: the browser signs in as that test user")
	}
	cfg, _ := resolve(a, &c, &d, &l)
	if !cfg.BaseURL.Set() {
		return exitUsage, usagef("no auth service URL: pass --base-url or set BETTER_AUTH_URL in an env file")
	}
	if strings.TrimSpace(l.origin) == "" {
		return exitUsage, usagef("pass --origin: the front end's origin the sign-in runs from, e.g. http://localhost:5173")
	}
	pw, err := l.password(a)
	if err != nil {
		return exitUsage, err
	}
	if _, err := browser.Find(chrome); err != nil {
		return exitUsage, usagef("%v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := browser.Run(ctx, browser.Options{Chrome: chrome, Origin: cfg.Origin.Value, BaseURL: cfg.BaseURL.Value,
		Email: l.email, Password: pw, APIURL: cfg.APIURL.Value, Timeout: d.timeout})
	if err != nil {
		if errors.Is(err, browser.ErrNoChrome) {
			return exitUsage, usagef("%v", err)
		}
		return exitFound, err
	}
	if c.json {
		return exitFor(res.Findings), writeJSON(a.stdout, res)
	}
	bs := []report.Block{browserBlock(res)}
	bs = append(bs, report.Findings(res.Findings))
	report.Text(a.stdout, bs, newStyle(c.colors(a)).reportText())
	return exitFor(res.Findings), nil
}

// browserBlock is a browser run as lines: per pass, per request, what
// Chrome stored, refused, sent and withheld.
func browserBlock(res *browser.Result) report.Block {
	b := report.Block{Title: "Browser", Meta: textsafe.Clean(res.Chrome) + " · page on " + textsafe.URL(res.Origin) + " · " + report.Duration(res.Duration)}
	for _, p := range res.Passes {
		head := "third-party cookies allowed"
		if p.ThirdPartyBlocked {
			head = "third-party cookies blocked"
		}
		mark, tone := "✗ no session", report.Bad
		if p.Session {
			mark, tone = "✓ session", report.Good
		}
		b.Lines = append(b.Lines, report.L("", report.S(head, report.Strong), report.P("  "), report.S(mark, tone), report.S("  "+report.Duration(p.Duration), report.Dim)))
		if p.Error != "" {
			b.Lines = append(b.Lines, report.Line{Indent: 1, Prose: true, Spans: []report.Span{report.S(report.Safe(p.Error, 300), report.Warn)}})
		}
		for _, q := range p.Requests {
			var parts []string
			if q.Status != 0 {
				parts = append(parts, fmt.Sprint(q.Status))
			}
			if len(q.Stored) > 0 {
				parts = append(parts, "stored "+strings.Join(q.Stored, ", "))
			}
			for _, c := range q.Refused {
				parts = append(parts, "✗ refused "+c.Name+" ("+strings.Join(c.Reasons, ", ")+")")
			}
			if len(q.Sent) > 0 {
				parts = append(parts, "sent "+strings.Join(q.Sent, ", "))
			}
			for _, c := range q.Withheld {
				parts = append(parts, "✗ withheld "+c.Name+" ("+strings.Join(c.Reasons, ", ")+")")
			}
			if q.CORSError != "" {
				parts = append(parts, "✗ CORS "+q.CORSError)
			} else if q.Failed != "" {
				parts = append(parts, "✗ "+q.Failed)
			}
			b.Lines = append(b.Lines, report.Line{Label: report.Clip(q.Step, 20), Indent: 1, Prose: true, Spans: []report.Span{report.P(report.Safe(strings.Join(parts, " · "), 600))}})
		}
	}
	return b
}

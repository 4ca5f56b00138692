package ui

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/browser"
	"github.com/authtui/authtui/internal/probe/check"
	"github.com/authtui/authtui/internal/probe/database"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/login"
)

// VerdictMsg carries the console's verdict whenever it changes: the same
// one `authtui check` prints for the same inputs, because both come from
// check.Decide over the same reports.
type VerdictMsg struct {
	Report *check.Report
}

// LoginReportMsg is broadcast by the login pane when a run completes.
type LoginReportMsg struct {
	Result  *login.Result
	Browser *browser.Result // the run in Chrome (b), when one ran
}

// healthSource is implemented by the pane that watches the database.
type healthSource interface {
	Health() *database.Health
}

// evidence gathers what the panes have learned and decides the verdict.
// It is not a pane: it has no view of its own; the header and the login
// pane show what it decides.
type evidence struct {
	cfg     *Config
	config  probe.Config
	secrets probe.SecretsReport
	result  *login.Result
	browser *browser.Result
	seen    bool // a secrets load arrived

	last   string // signature of the inputs of the last decision
	report *check.Report
}

func newEvidence(cfg *Config) *evidence {
	e := &evidence{cfg: cfg}
	e.config = probe.Resolve(cfg.flags(), nil, cfg.getenv)
	return e
}

// observe takes in a broadcast message.
func (e *evidence) observe(msg tea.Msg) {
	switch msg := msg.(type) {
	case SecretsLoadedMsg:
		e.config = msg.Config
		e.secrets = msg.Report
		e.seen = true
	case LoginReportMsg:
		if msg.Result != nil && !msg.Result.Cancelled {
			e.result, e.browser = msg.Result, msg.Browser
		}
	}
}

// decide recomputes the verdict when its inputs changed, and returns the
// message announcing it (nil when nothing changed).
func (e *evidence) decide(h *database.Health) tea.Cmd {
	if !e.seen {
		return nil
	}
	sig := e.signature(h)
	if sig == e.last && e.report != nil {
		return nil
	}
	e.last = sig
	prev := e.report
	e.report = check.Decide(e.config, e.secrets, h, e.result, e.browser)
	if prev != nil && prev.Verdict.ID == e.report.Verdict.ID && prev.Verdict.Message == e.report.Verdict.Message && prev.Healthy == e.report.Healthy {
		return nil
	}
	rep := e.report
	return func() tea.Msg { return VerdictMsg{Report: rep} }
}

// signature identifies the inputs cheaply: the verdict is a pure function
// of them.
func (e *evidence) signature(h *database.Health) string {
	var b strings.Builder
	b.WriteString(e.config.BaseURL.Value + "\x00" + e.config.DatabaseURL.Value + "\x00")
	writeIDs(&b, e.secrets.Findings)
	for _, s := range e.secrets.Sources {
		b.WriteString(s.Label + s.Fingerprint + "\x00")
	}
	if h != nil {
		writeIDs(&b, h.Findings)
	}
	if e.result != nil {
		b.WriteString("login\x00")
		b.WriteString(strings.Repeat("x", len(e.result.Events)))
		writeIDs(&b, e.result.Findings)
	}
	if e.browser != nil {
		b.WriteString("browser\x00")
		writeIDs(&b, e.browser.Findings)
		for _, p := range e.browser.Passes {
			fmt.Fprintf(&b, "%v%v\x00", p.ThirdPartyBlocked, p.Session)
		}
	}
	return b.String()
}

func writeIDs(b *strings.Builder, fs finding.List) {
	for _, f := range fs {
		b.WriteString(string(f.ID) + "|" + f.Source + "|" + f.Message + "\x00")
	}
}

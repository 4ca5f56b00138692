package login

import (
	"fmt"
	"github.com/authtui/authtui/internal/probe/textsafe"
	"net/http"
	"net/url"
	"strings"

	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/finding"
)

// stepReplay names the server's secret without a test user: it takes an
// existing session's token from the database, signs it with each candidate
// secret, and asks get-session which signature the server accepts. It uses
// a real user's session (read-only on our side; the server may refresh the
// session's expiry as it would for that user's own request).
func (r *run) stepReplay() bool {
	const title = "Read a session token from the database"
	t := r.start(StepReplayRead, title)
	if r.opts.DB == nil || r.opts.Schema == nil || r.opts.Schema.Session == nil {
		f := finding.New(finding.DBUnreachable, StepReplayRead, "session replay needs the database: pass --database-url (or DATABASE_URL in an env file).")
		r.end(StepReplayRead, title, t, StatusFail, nil, f.Message, f)
		return false
	}
	token, id, err := r.opts.DB.ReplayToken(r.ctx, r.opts.Schema, r.opts.ReplaySession)
	if err != nil {
		r.end(StepReplayRead, title, t, StatusFail, nil, err.Error())
		return false
	}
	r.token = token
	r.end(StepReplayRead, title, t, StatusOK, nil, fmt.Sprintf("session %s, token %s", id, textsafe.TokenPrefix(token)))

	name := r.cookieName()
	byFP := map[string][]probe.Candidate{}
	var order []string
	for _, c := range r.opts.Candidates {
		fp := c.Fingerprint()
		if _, ok := byFP[fp]; !ok {
			order = append(order, fp)
		}
		byFP[fp] = append(byFP[fp], c)
	}
	var matches []probe.Match
	rowInvalid := false
	for _, fp := range order {
		if r.ctx.Err() != nil {
			return false
		}
		c := byFP[fp][0]
		title := "Replay signed with " + c.String()
		t := r.start(StepReplayProbe, title)
		value := url.QueryEscape(token + "." + probe.Sign(token, c))
		resp, err := do(r.ctx, r.client, r.opts.Timeout, http.MethodGet, r.url("/get-session"), http.Header{"Cookie": {name + "=" + value}}, nil)
		if err != nil {
			r.end(StepReplayProbe, title, t, StatusFail, nil, err.Error(), r.netFinding(StepReplayProbe, err))
			return false
		}
		body := strings.TrimSpace(string(resp.body))
		cleared := false
		for _, l := range resp.header.Values("Set-Cookie") {
			cleared = cleared || strings.Contains(strings.ToLower(l), "max-age=0")
		}
		switch {
		case resp.status >= 500:
			f := finding.New(finding.GetSessionError, StepReplayProbe, "get-session answered %d %s: the server failed to read the session, usually its database.", resp.status, errorCode(resp.body))
			r.end(StepReplayProbe, title, t, StatusFail, resp, f.Message, f)
			return false
		case resp.status == http.StatusOK && body != "null":
			for _, m := range byFP[fp] {
				matches = append(matches, probe.Match{Label: m.Label, Variable: m.Variable, Version: m.Version, Role: m.Role})
			}
			r.end(StepReplayProbe, title, t, StatusOK, resp, "accepted: the server signs with this secret")
		case resp.status == http.StatusOK && cleared:
			// The signature passed; the row did not (expired or deleted meanwhile).
			for _, m := range byFP[fp] {
				matches = append(matches, probe.Match{Label: m.Label, Variable: m.Variable, Version: m.Version, Role: m.Role})
			}
			rowInvalid = true
			r.end(StepReplayProbe, title, t, StatusWarn, resp, "signature accepted, but the server cleared the cookie: its database has no valid row for this session")
		default:
			r.end(StepReplayProbe, title, t, StatusOK, resp, "rejected (null): not this secret")
		}
	}
	const final = "Identify the server's secret"
	t = r.start(StepReplayProbe, final)
	fs := r.identifySecret(matches, "a replayed session")
	if rowInvalid {
		fs.Add(finding.GetSessionNull, StepReplayProbe,
			"the server accepted the replayed signature but answered null: the session row authtui read is not valid on the server's side (it reads another database, or the row expired).")
	}
	r.end(StepReplayProbe, final, t, "", nil, fs[0].Message, fs...)
	return true
}

// cookieName is the session cookie's name as the server expects it.
func (r *run) cookieName() string {
	prefix := r.opts.CookiePrefix
	if prefix == "" {
		prefix = "better-auth"
	}
	name := prefix + ".session_token"
	if r.base.Scheme == "https" {
		name = "__Secure-" + name
	}
	return name
}

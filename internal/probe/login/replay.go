package login

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/database"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/textsafe"
)

// replayed is the candidate whose signature get-session accepted.
type replayed struct {
	cand probe.Candidate
	out  Outcome
}

// stepReplay names the server's secret without a test user: it takes an
// existing session's token from the database, signs it with each candidate
// secret, and asks get-session which signature the server accepts. It uses
// a real user's session (read-only on our side; the server may refresh the
// session's expiry as it would for that user's own request).
func (r *run) stepReplay() bool {
	const title = "Read a session token from the database"
	t := r.start(StepReplayRead, title)
	r.awaitDB()
	if r.opts.DB == nil || r.opts.Schema == nil || r.opts.Schema.Session == nil {
		f := finding.New(finding.DBUnreachable, StepReplayRead, "session replay needs the database: pass --database-url (or DATABASE_URL in an env file).")
		if r.opts.DB != nil || r.noDB != "" {
			f = finding.New(finding.DBUnreachable, StepReplayRead, "session replay needs the database, and %s.", r.dbMissing())
		}
		r.end(StepReplayRead, title, t, StatusFail, nil, f.Message, f)
		return false
	}
	if !r.opts.Schema.Session.Has(database.ColToken) || !r.opts.Schema.Session.Has(database.ColID) {
		f := finding.New(finding.DBSchemaMismatch, StepReplayRead,
			"%s lacks an id or token column, so no session can be replayed: the database is not the one this BetterAuth writes to, or its schema is customised.", r.opts.Schema.Session)
		r.end(StepReplayRead, title, t, StatusFail, nil, f.Message, f)
		return false
	}
	token, id, err := r.opts.DB.ReplayToken(r.ctx, r.opts.Schema, r.opts.ReplaySession)
	if err != nil {
		f := replayReadFinding(err)
		r.end(StepReplayRead, title, t, StatusFail, nil, f.Message, f)
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
	var (
		matches []probe.Match
		acc     *replayed
		last    Outcome // the last rejection, when nothing is accepted
	)
	rowInvalid := false
	// A replay sends a real user's session: in clear over plain http.
	clear := inClear(StepReplayProbe, r.url(""), "the replay sent a real user's session", "the auth service (BETTER_AUTH_URL or --base-url)")
	for _, fp := range order {
		if r.ctx.Err() != nil {
			return false
		}
		c := byFP[fp][0]
		title := "Replay signed with " + c.String()
		t := r.start(StepReplayProbe, title)
		value := url.QueryEscape(token + "." + probe.Sign(token, c))
		resp, err := do(r.ctx, r.client, r.opts.Timeout, http.MethodGet, r.url("/get-session"), http.Header{"Cookie": {replayCookie(name, value)}}, nil)
		if err != nil {
			if acc == nil {
				r.recordNet(StepReplayProbe, viaCookie, err)
			}
			fs := finding.List{r.netFinding(StepReplayProbe, err)}
			if sent(err) {
				fs = append(fs, take(&clear)...)
			}
			r.end(StepReplayProbe, title, t, StatusFail, nil, err.Error(), fs...)
			return false
		}
		o := JudgeGetSession(resp.status, resp.header, resp.body)
		o.Step, o.Via = StepReplayProbe, viaCookie
		switch {
		case o.Result == Accepted:
			for _, m := range byFP[fp] {
				matches = append(matches, probe.Match{Label: m.Label, Variable: m.Variable, Version: m.Version, Role: m.Role})
			}
			if acc == nil {
				acc = &replayed{cand: c, out: o}
				r.record(o)
			}
			status, detail := StatusOK, "accepted: the server signs with this secret (answered "+sessionSummary(resp.body)+")"
			fs := take(&clear)
			if len(fs) > 0 {
				status, detail = StatusWarn, detail+"; "+fs[0].Message
			}
			r.end(StepReplayProbe, title, t, status, resp, detail, fs...)
		case nullAnswer(o) && o.Cleared:
			// The signature passed; the row did not (expired or deleted meanwhile).
			for _, m := range byFP[fp] {
				matches = append(matches, probe.Match{Label: m.Label, Variable: m.Variable, Version: m.Version, Role: m.Role})
			}
			rowInvalid = true
			if acc == nil {
				last = o
			}
			r.end(StepReplayProbe, title, t, StatusWarn, resp, "signature accepted, but the server answered "+o.Seen+" and cleared the cookie: its database has no valid row for this session", take(&clear)...)
		case nullAnswer(o):
			// Expected for every candidate but the server's own: not a
			// problem, and not acceptance either, so not ✓.
			if acc == nil {
				last = o
			}
			r.end(StepReplayProbe, title, t, StatusSkip, resp, "rejected (null): not this secret (answered "+o.Seen+")", take(&clear)...)
		default:
			// 5xx, a page that is not get-session's, a redirect or a 4xx:
			// the answer does not come from BetterAuth's signature check,
			// so no further candidate can tell the secret either.
			if acc == nil {
				r.record(o)
			}
			fs := r.getSessionFindings(StepReplayProbe, "replayed cookie", o, resp)
			r.end(StepReplayProbe, title, t, StatusFail, resp, fs[0].Message, append(fs, take(&clear)...)...)
			return false
		}
	}
	if acc == nil && last.Ran() {
		r.record(last)
	}
	const final = "Identify the server's secret"
	t = r.start(StepReplayProbe, final)
	fs := r.identifySecret(matches, "a replayed session")
	if rowInvalid {
		fs.Add(finding.GetSessionNull, StepReplayProbe,
			"the server accepted the replayed signature but answered null: the session row authtui read is not valid on the server's side (it reads another database, or the row expired).")
	}
	r.end(StepReplayProbe, final, t, "", nil, fs[0].Message, fs...)
	if acc != nil {
		r.byVia[viaCookie] = judged{out: acc.out}
	}
	r.replayAPI(acc, name)
	return true
}

// replayAPI presents the accepted replayed session to the user's API, as
// the cookie and, when get-session takes it as one, as a bearer token, so
// that the replay also answers "does my API accept BetterAuth's session?".
func (r *run) replayAPI(acc *replayed, cookieName string) {
	title := "Your API with the replayed session"
	if r.opts.APIURL == "" {
		t := r.start(StepAPICookie, title)
		r.end(StepAPICookie, title, t, StatusSkip, nil, "not tried: no --api-url")
		return
	}
	if acc == nil {
		t := r.start(StepAPICookie, title)
		r.end(StepAPICookie, title, t, StatusSkip, nil, "not tried: get-session accepted no replayed signature, so there is no valid session to present")
		return
	}
	if r.ctx.Err() != nil {
		return
	}
	signed := r.token + "." + probe.Sign(r.token, acc.cand)
	r.api(StepAPICookie, "Your API with the replayed cookie", r.opts.APIURL, http.Header{"Cookie": {replayCookie(cookieName, url.QueryEscape(signed))}}, viaCookie)

	// The bearer plugin takes the signed token in Authorization; a server
	// without it ignores the header and answers null. Asking get-session
	// first tells which, so the API is only blamed for what BetterAuth
	// itself accepts.
	if r.ctx.Err() != nil {
		return
	}
	const btitle = "get-session with the replayed token as a bearer token"
	t := r.start(StepGetBearer, btitle)
	h := http.Header{"Authorization": {"Bearer " + signed}}
	resp, err := do(r.ctx, r.client, r.opts.Timeout, http.MethodGet, r.url("/get-session"), h, nil)
	if err != nil {
		r.recordNet(StepGetBearer, viaBearer, err)
		r.end(StepGetBearer, btitle, t, StatusFail, nil, err.Error(), r.netFinding(StepGetBearer, err))
		return
	}
	o := JudgeGetSession(resp.status, resp.header, resp.body)
	o.Step, o.Via = StepGetBearer, viaBearer
	if !nullAnswer(o) { // a null says the bearer plugin is off, not that the session is rejected: the step is a skip
		r.record(o)
	}
	switch {
	case o.Result == Accepted:
		r.byVia[viaBearer] = judged{out: o}
		r.end(StepGetBearer, btitle, t, StatusOK, resp, "the bearer plugin accepts it (answered "+sessionSummary(resp.body)+")")
	case nullAnswer(o):
		r.end(StepGetBearer, btitle, t, StatusSkip, resp, "answered "+o.Seen+" to Authorization: Bearer for a session the cookie opens: the bearer plugin is off, so the API is not asked with a bearer token")
		return
	default:
		fs := r.getSessionFindings(StepGetBearer, viaBearer, o, resp)
		r.end(StepGetBearer, btitle, t, StatusFail, resp, fs[0].Message, fs...)
		return
	}
	if r.ctx.Err() != nil {
		return
	}
	r.api(StepAPIBearer, "Your API with the replayed bearer token", r.opts.APIURL, h, viaBearer)
}

// replayReadFinding explains why no token could be read. ReplayToken's
// errors are plain messages; "no …" is its wording for an empty result,
// anything else is the database failing.
func replayReadFinding(err error) finding.Finding {
	if strings.HasPrefix(err.Error(), "no ") {
		return finding.New(finding.SessionNotFound, StepReplayRead,
			"nothing to replay: %s. Sign in once through your app (or pass a session id from the Sessions pane), or check that this is the database the auth service writes to.", err)
	}
	return finding.New(finding.DBUnreachable, StepReplayRead, "the session to replay could not be read: %s.", err)
}

// cookieName is the session cookie's name as the server expects it.
// replayCookie sends the replayed value under the name authtui expects and
// under its __Secure- twin: a server behind a TLS proxy has an https base
// URL (so reads the __Secure- name) while authtui may reach it over http,
// and the reverse. BetterAuth reads its own name and ignores the other.
func replayCookie(name, value string) string {
	twin := "__Secure-" + name
	if n, ok := strings.CutPrefix(name, "__Secure-"); ok {
		twin = n
	}
	return name + "=" + value + "; " + twin + "=" + value
}

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

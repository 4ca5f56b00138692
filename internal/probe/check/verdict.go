package check

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/browser"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/login"
)

// Verdict is the root cause that the whole body of evidence leaves
// standing. ID is the finding ID of that cause ("" when nothing is
// wrong); Alternatives are the other causes the evidence does not rule
// out, most likely first, and TellApart the observation that would decide
// between them.
type Verdict struct {
	ID           finding.ID         `json:"id"`
	Message      string             `json:"message"`
	Evidence     []finding.Evidence `json:"evidence"`
	Alternatives []Alternative      `json:"alternatives"`
	TellApart    string             `json:"tell_apart,omitempty"`
	Healthy      bool               `json:"healthy"`
	// Undecided: the evidence shows where the session breaks (ID names
	// that symptom) but not why; Alternatives are the causes, most likely
	// first, and TellApart what would decide.
	Undecided bool `json:"undecided,omitempty"`
}

// Alternative is a cause that stays possible.
type Alternative struct {
	ID      finding.ID `json:"id"`
	Message string     `json:"message"`
}

// facts is what the verdict is decided from: one place that reads the
// probes' reports, so the rules below read like the reasoning they are.
type facts struct {
	cfg      probe.Config
	secrets  probe.SecretsReport
	findings finding.List
	login    *login.Result
	ran      bool // a login flow (or replay) ran

	serverSecret  []string // labels the server signs with
	serverUnknown bool

	out      map[string]login.Outcome
	originFs finding.List // findings about the front end's origin itself

	browser *browser.Result // the run in a real Chrome, when one ran
}

func gather(r *Report) *facts {
	f := &facts{cfg: r.Config, secrets: r.Secrets, findings: r.Findings, login: r.Login, out: map[string]login.Outcome{}, originFs: r.originFs, browser: r.Browser}
	if r.Login != nil {
		f.ran = len(r.Login.Events) > 0
		f.serverSecret = r.Login.ServerSecret
		for k, v := range r.Login.Outcomes {
			f.out[k] = v
		}
		f.serverUnknown = f.has(finding.ServerSecretUnknown)
	}
	return f
}

func (f *facts) has(id finding.ID) bool { return f.findings.Has(id) }

func firstIn(fs finding.List, id finding.ID) (finding.Finding, bool) {
	for _, g := range fs {
		if g.ID == id {
			return g, true
		}
	}
	return finding.Finding{}, false
}

func (f *facts) first(id finding.ID) (finding.Finding, bool) {
	for _, g := range f.findings {
		if g.ID == id {
			return g, true
		}
	}
	return finding.Finding{}, false
}

func (f *facts) all(id finding.ID) finding.List {
	var out finding.List
	for _, g := range f.findings {
		if g.ID == id {
			out = append(out, g)
		}
	}
	return out
}

func (f *facts) outcome(step string) login.Outcome { return f.out[step] }

// accepted / rejected: a credential form on an endpoint. Rejected
// includes a null session and a page that is not a session.
func (f *facts) accepted(step string) bool { return f.out[step].Result == login.Accepted }
func (f *facts) rejected(step string) bool {
	r := f.out[step].Result
	return r == login.Rejected || r == login.NotSession
}

// signers are the loaded sources with a secret of their own, and
// distinct says how many different current secrets they hold.
func (f *facts) signers() (labels []string, distinct int) {
	fps := map[string]bool{}
	for _, s := range f.secrets.Sources {
		if s.Present {
			labels = append(labels, s.Label)
			fps[s.Fingerprint] = true
		}
	}
	return labels, len(fps)
}

// othersThanServer lists the sources whose current secret is not the one
// the server signs with.
func (f *facts) othersThanServer() []string {
	// Only a source whose current secret verified counts: a label with a
	// role suffix ("api.env (AUTH_SECRET, ignored)") matched a value
	// BetterAuth does not verify with.
	server := map[string]bool{}
	for _, l := range f.serverSecret {
		if !strings.Contains(l, " (") {
			server[l] = true
		}
	}
	var out []string
	for _, s := range f.secrets.Sources {
		if (s.Present || s.Default) && s.Loaded && !server[s.Label] {
			out = append(out, s.Label)
		}
	}
	return out
}

// currentHasWhitespace reports whether the secret a source resolves to
// (the one a server started from it uses) carries stray characters.
func (f *facts) currentHasWhitespace(label string) bool {
	for _, s := range f.secrets.Sources {
		if s.Label == label {
			return s.Whitespace != ""
		}
	}
	return false
}

func (f *facts) dbURLsAgree() bool { return !f.has(finding.DBURLMismatch) }

// issuedSecurePrefix reports whether the issued session cookie carries
// the __Secure- prefix (BetterAuth adds it for an https base URL).
func (f *facts) issuedCookieName() string {
	if f.login == nil {
		return ""
	}
	return f.login.Issued.Name
}

// httpBaseURLSource names a source whose base URL is http:// while the
// issued cookie is __Secure-: a service configured from it looks for the
// cookie without the prefix.
func (f *facts) httpBaseURLSource() string {
	for _, s := range f.secrets.Sources {
		if u, err := url.Parse(strings.TrimSpace(s.BaseURL)); err == nil && u.Scheme == "http" {
			return s.Label
		}
	}
	return ""
}

// decide is the differential diagnosis. It walks the chain a session
// travels (reach the server, sign in, the issued cookie, get-session, the
// row, the user's API, the browser) and stops at the first link the
// evidence shows broken; for that symptom it weighs the causes that could
// produce it, drops every cause an observation rules out, and names the
// most likely one, with the others as alternatives. Configuration facts
// that explain the symptom (a stray newline, an origin list with spaces)
// are the verdict, with the symptom as evidence.
func decide(r *Report) Verdict {
	f := gather(r)
	for _, rule := range chain {
		if v, ok := rule(f); ok {
			if v.Evidence == nil {
				v.Evidence = []finding.Evidence{}
			}
			if v.Alternatives == nil {
				v.Alternatives = []Alternative{}
			}
			return v
		}
	}
	return healthy(f)
}

// chain is ordered by where a session breaks first: an earlier break
// makes every later symptom inevitable, so a later rule never overrides
// an earlier one.
var chain = []func(*facts) (Verdict, bool){
	reachRule,
	socialRule,
	signInRule,
	issuedRule,
	getSessionRule,
	rowRule,
	apiRule,
	browserRule,
	configRule,
}

func evidenceOf(fs ...finding.Finding) []finding.Evidence {
	var ev []finding.Evidence
	for _, g := range fs {
		if len(g.Evidence) > 0 {
			ev = append(ev, g.Evidence...)
			continue
		}
		ev = append(ev, finding.Evidence{Step: g.Source, Seen: g.Message})
	}
	return ev
}

func seen(f *facts, steps ...string) []finding.Evidence {
	var ev []finding.Evidence
	for _, s := range steps {
		o := f.out[s]
		if o.Ran() {
			ev = append(ev, finding.Evidence{Step: s, Seen: o.Seen})
		}
	}
	return ev
}

func verdictFrom(g finding.Finding, msg string) Verdict {
	return Verdict{ID: g.ID, Message: msg, Evidence: evidenceOf(g)}
}

func reachRule(f *facts) (Verdict, bool) {
	for _, id := range []finding.ID{finding.ServerUnreachable, finding.ServerTimeout, finding.ServerNotBetterAuth} {
		for _, g := range f.all(id) {
			if g.Source != login.StepOK && g.Source != login.StepSignIn {
				continue
			}
			what := "The auth service could not be asked anything, so no session was tested: "
			if g.Source == login.StepSignIn {
				what = "The auth service did not answer sign-in, so no session was issued: "
			}
			v := verdictFrom(g, what+g.Message)
			if f.cfg.BaseURL.Set() {
				v.Message += " (base URL " + f.cfg.BaseURL.Value + ", from " + f.cfg.BaseURL.From + ")"
			}
			return v, true
		}
	}
	return Verdict{}, false
}

func signInRule(f *facts) (Verdict, bool) {
	if g, ok := f.first(finding.LoginOriginRejected); ok {
		// A configuration fact that explains the 403 is the cause.
		for _, id := range []finding.ID{finding.TrustedOriginsSpace, finding.OriginSchemeMismatch} {
			if c, ok := firstIn(f.originFs, id); ok {
				v := Verdict{ID: id, Message: c.Message + " That is why sign-in from " + f.cfg.Origin.Value + " answers 403.", Evidence: evidenceOf(g, c)}
				return v, true
			}
		}
		return verdictFrom(g, "The auth service does not trust the front end's origin, so the browser never gets a session: "+g.Message), true
	}
	for _, id := range []finding.ID{finding.LoginCredentialsRejected, finding.LoginEmailNotVerified} {
		if g, ok := f.first(id); ok {
			msg := g.Message
			if id == finding.LoginCredentialsRejected {
				msg = "The test credentials were refused; the session itself was not tested. Use a working test user or --replay-session. " + g.Message
			}
			return verdictFrom(g, msg), true
		}
	}
	if g, ok := f.first(finding.LoginServerError); ok {
		if c, ok := f.first(finding.StoreUnreachable); ok {
			return Verdict{ID: c.ID, Message: c.Message + " The auth service's sign-in fails with it (" + g.Message + "), most likely for the same reason.", Evidence: evidenceOf(g, c),
				Alternatives: []Alternative{{finding.LoginServerError, "the auth service reaches its store from its own network and fails for another reason"}},
				TellApart:    "Read the auth service's log for the sign-in: a Redis connection error there confirms it."}, true
		}
		// The auth service failed; authtui's own look at the database
		// tells whether that is the database.
		if c, ok := f.first(finding.DBSchemaMissing); ok {
			return Verdict{ID: c.ID, Message: c.Message + " The auth service's sign-in fails with it (" + g.Message + ").", Evidence: evidenceOf(g, c)}, true
		}
		if c, ok := f.first(finding.DBUnreachable); ok {
			// authtui may reach the database from another network than
			// the auth service: likely, not proven.
			return Verdict{ID: c.ID, Evidence: evidenceOf(g, c),
				Message:      c.Message + " Sign-in fails on the auth service too (" + g.Message + "), most likely for the same reason.",
				Alternatives: []Alternative{{finding.LoginServerError, "the auth service fails for another reason (a hook or plugin throwing) while its own network reaches the database"}},
				TellApart:    "Read the auth service's log for the sign-in: a database error there confirms it; authtui reached (or failed to reach) the database from where it runs, which may not be the auth service's network."}, true
		}
		v := verdictFrom(g, "The auth service fails when it signs in: "+g.Message)
		v.Undecided = true
		v.Alternatives = []Alternative{
			{finding.DBUnreachable, "its database is down or DATABASE_URL is wrong in that deployment"},
			{finding.DBSchemaMissing, "BetterAuth's migrations were not run on its database"},
		}
		if f.cfg.DatabaseURL.Set() {
			v.TellApart = "authtui reached the database at " + dbLabel(f.cfg.DatabaseURL.Value) + " and found the schema: compare the auth service's own DATABASE_URL with it, and read its log."
		} else {
			v.TellApart = "Pass --database-url (the auth service's DATABASE_URL) so authtui can check the database itself, and read the auth service's log."
		}
		return v, true
	}
	for _, id := range []finding.ID{finding.LoginUnexpectedStatus, finding.LoginNoCookie} {
		if g, ok := f.first(id); ok {
			return verdictFrom(g, g.Message), true
		}
	}
	return Verdict{}, false
}

// issuedRule: sign-in worked; what the issued cookie says about the
// server's secret.
func issuedRule(f *facts) (Verdict, bool) {
	if g, ok := f.first(finding.ServerSecretDefault); ok {
		v := verdictFrom(g, "The auth service runs on BetterAuth's built-in default secret: its BETTER_AUTH_SECRET never reached the process. Every service that has the real secret rejects its cookies, and anyone can forge them. Set the secret in that deployment's environment and redeploy.")
		// A source without a secret is where the deployment got its
		// configuration from, most likely.
		var missing []string
		for _, m := range f.all(finding.SecretMissing) {
			missing = append(missing, m.Source)
			v.Evidence = append(v.Evidence, evidenceOf(m)...)
		}
		if len(missing) > 0 {
			v.Message += " " + strings.Join(missing, ", ") + " sets no secret: that is the configuration it runs with."
		}
		return v, true
	}
	if f.serverUnknown {
		g, _ := f.first(finding.ServerSecretUnknown)
		v := verdictFrom(g, "The auth service signs with a secret that none of your env sources holds, so any service configured from them returns null: "+g.Message)
		v.Undecided = true
		v.Alternatives = []Alternative{
			{finding.SecretMismatch, "the deployment's secret was set in the hosting dashboard and differs from every env file"},
			{finding.SecretWhitespace, "the deployed value carries a stray newline or quotes that the env files do not"},
		}
		v.TellApart = "Pull the deployment's environment (e.g. vercel env pull) and pass it with --env-file: its fingerprint either matches the server or shows the stray characters."
		if f.out[login.StepReplayProbe].Ran() && !f.out[login.StepReplayProbe].Cleared {
			// A replay guesses the cookie's name: under another name the
			// server answers null without clearing, exactly as for a
			// wrong signature.
			v.Alternatives = append([]Alternative{{finding.CookieNameMismatch, "the server reads another cookie name (advanced.cookiePrefix set in code), so it never saw the replayed signatures"}}, v.Alternatives...)
			v.TellApart = "Pass the server's advanced.cookiePrefix with --cookie-prefix and replay again: if a candidate is then accepted, it was the name; otherwise pull the deployment's environment and pass it with --env-file."
		}
		return v, true
	}
	return Verdict{}, false
}

// getSessionRule: the auth service's own get-session refuses its fresh
// session.
func getSessionRule(f *facts) (Verdict, bool) {
	for _, step := range []string{login.StepGetCookie, login.StepGetBearer} {
		o := f.outcome(step)
		switch o.Result {
		case login.ServerError:
			if c, ok := f.first(finding.StoreUnreachable); ok {
				// BetterAuth reads sessions from secondaryStorage first
				// and answers 500 when it is down, database copy or not.
				return Verdict{ID: c.ID, Message: c.Message + " get-session fails with it (" + o.Seen + ").", Evidence: append(seen(f, step), evidenceOf(c)...)}, true
			}
			// Sign-in just wrote the session through the same database, so
			// authtui's own view of the database proves nothing here.
			g, _ := f.first(finding.GetSessionError)
			v := verdictFrom(g, "The auth service fails when it reads the session, usually its database: "+g.Message)
			v.Evidence = append(seen(f, step), v.Evidence...)
			return v, true
		case login.NotSession:
			g, _ := f.first(finding.GetSessionNotSession)
			v := verdictFrom(g, g.Message)
			v.Evidence = seen(f, step)
			return v, true
		case login.Rejected:
			g, _ := f.first(finding.GetSessionNull)
			if o.HTTPStatus < 200 || o.HTTPStatus >= 300 {
				// A status, not BetterAuth's 200 null: something in front
				// of it answered; nothing is known about secrets or rows.
				v := Verdict{ID: finding.GetSessionNull, Evidence: seen(f, step), Message: "get-session did not reach BetterAuth's answer: " + g.Message}
				if g.ID == "" {
					v.Message = "get-session answered " + o.Seen + ": not BetterAuth's answer (it answers 200 null for a session it does not accept), so a proxy or middleware in front of it refused the request."
				}
				return v, true
			}
			other := login.StepGetBearer
			if step == login.StepGetBearer {
				other = login.StepGetCookie
			}
			if f.accepted(other) {
				// The same session passes in the other form: neither the
				// secret nor the row is at fault.
				v := Verdict{ID: finding.GetSessionNull, Evidence: seen(f, step, other)}
				if step == login.StepGetCookie {
					v.Message = "get-session accepts the bearer token but not the cookie it issued with it: the cookie is mangled on the way back (a proxy rewriting Cookie, a cookie prefix the instance answering does not use)."
				} else {
					v.Message = "get-session accepts the cookie but not the bearer token: the bearer plugin is off on the instance that answered, or a proxy drops Authorization."
				}
				return v, true
			}
			v := Verdict{ID: finding.GetSessionNull, Evidence: seen(f, step)}
			if o.Cleared {
				v.Message = "BetterAuth accepts the signature of its own fresh cookie but finds no valid session row: the instance answering get-session reads another database than the one that signed in (a replica that lags, another DATABASE_URL per instance), or its clock is off."
				v.Alternatives = []Alternative{{finding.DBURLMismatch, "instances of the auth service use different databases"}, {finding.DBClockSkew, "the server's clock is ahead of the database's"}}
				v.TellApart = "Run again with --database-url of each instance: the row is in one database and not the other."
			} else {
				v.Message = "BetterAuth rejects the signature of its own fresh cookie without clearing it: the instances behind the load balancer run with different secrets (one signed in, another answered)."
				v.Alternatives = []Alternative{{finding.SecretMismatch, "deployments of the auth service (e.g. Preview and Production sharing a domain) hold different BETTER_AUTH_SECRET values"}}
				v.TellApart = "Pass each deployment's env file (--env-file): the fingerprints show which instance differs."
			}
			if g.ID != "" {
				v.Evidence = append(v.Evidence, evidenceOf(g)...)
			}
			return v, true
		}
	}
	return Verdict{}, false
}

func rowRule(f *facts) (Verdict, bool) {
	// A fresh session that get-session accepts but the configured
	// database does not hold means authtui looked at another database.
	for _, id := range []finding.ID{finding.SessionNotFound, finding.SessionExpired, finding.SessionUserMissing} {
		g, ok := f.first(id)
		if !ok || g.Source != login.StepDatabase {
			continue
		}
		if id == finding.SessionNotFound && (f.accepted(login.StepGetCookie) || f.accepted(login.StepGetBearer)) {
			v := Verdict{ID: finding.DBURLMismatch, Evidence: append(seen(f, login.StepGetCookie), evidenceOf(g)...)}
			v.Message = fmt.Sprintf("get-session accepts the fresh session, but the database authtui reads (%s, %s) has no valid row for it: the auth service writes its sessions to another database (or to secondary storage such as Redis). Any backend that looks sessions up in this database answers null.", dbLabel(f.cfg.DatabaseURL.Value), f.cfg.DatabaseURL.From)
			v.Alternatives = []Alternative{{"", "sessions live in secondary storage (Redis) and are not stored in the database"}}
			v.TellApart = "Compare the auth service's DATABASE_URL with " + dbLabel(f.cfg.DatabaseURL.Value) + "; if they are equal, the server keeps sessions in secondary storage."
			return v, true
		}
		return verdictFrom(g, g.Message), true
	}
	return Verdict{}, false
}

// apiRule: get-session accepts the session (the auth service is fine);
// the user's own API does not.
func apiRule(f *facts) (Verdict, bool) {
	if f.accepted(login.StepAPIJWT) {
		// The API takes the jwt() plugin's token: that it refuses the
		// cookie or bearer token is its design (api-methods says so).
		return Verdict{}, false
	}
	ck, br := f.outcome(login.StepAPICookie), f.outcome(login.StepAPIBearer)
	for _, o := range []login.Outcome{ck, br} {
		if o.Result == login.Unreachable {
			for _, g := range f.findings {
				if (g.ID == finding.ServerUnreachable || g.ID == finding.ServerTimeout) && g.Source == o.Step {
					return Verdict{ID: g.ID, Message: "Your API could not be reached: " + g.Message, Evidence: evidenceOf(g)}, true
				}
			}
		}
	}
	if g, ok := f.first(finding.APINotProtected); ok {
		// The API was not tested: its answer is the same for anybody.
		return Verdict{ID: g.ID, Undecided: true, Evidence: evidenceOf(g),
			Message:   "Your API was not tested: " + g.Message,
			TellApart: "Run again with --api-url set to a route of your API that answers 401 without a session."}, true
	}
	gsOK := f.accepted(login.StepGetCookie) || f.accepted(login.StepGetBearer) || f.accepted(login.StepReplayProbe)
	ckBad, brBad := f.rejected(login.StepAPICookie) || ck.Result == login.ServerError, f.rejected(login.StepAPIBearer) || br.Result == login.ServerError
	if !ckBad && !brBad {
		return Verdict{}, false
	}
	ev := seen(f, login.StepGetCookie, login.StepGetBearer, login.StepReplayProbe, login.StepAPICookie, login.StepAPIBearer)

	// One form passes on the same endpoint: the secret, the database and
	// the row are ruled out, only how the credential is read differs.
	if ckBad && br.Result == login.Accepted {
		name := f.issuedCookieName()
		if strings.HasPrefix(name, "__Secure-") {
			if src := f.httpBaseURLSource(); src != "" {
				return Verdict{ID: finding.CookieNameMismatch, Evidence: ev,
					Message: fmt.Sprintf("Your API accepts the bearer token but not the cookie: the auth service's base URL is https, so BetterAuth names the cookie %s, while %s has an http:// base URL, so a server configured from it reads better-auth.session_token without the __Secure- prefix. Give the API the same https BETTER_AUTH_URL (the secret and the database are fine: the bearer token passes).", name, src)}, true
			}
		}
		v := Verdict{ID: finding.APICookieRejected, Evidence: ev, Undecided: true}
		v.Message = fmt.Sprintf("Your API accepts the bearer token but rejects the cookie %s on the same endpoint, so the secret and the database are fine: the API reads the cookie under another name (its cookiePrefix or the __Secure- prefix differs), or it reads only the Authorization header.", orUnknown(name))
		v.Alternatives = []Alternative{
			{finding.CookieNameMismatch, "the API's BetterAuth has another advanced.cookiePrefix or base URL scheme, so it looks for another cookie name"},
			{finding.APICookieRejected, "the API reads only Authorization: Bearer (common for Python or Go backends)"},
		}
		v.TellApart = "Look at the name the API reads: if it reads cookies, make its cookiePrefix and BETTER_AUTH_URL scheme match the auth service's; if it reads only Authorization, have the front end send the bearer token."
		return v, true
	}
	if brBad && ck.Result == login.Accepted {
		return Verdict{ID: finding.APIBearerRejected, Evidence: ev,
			Message: "Your API accepts the cookie but rejects the bearer token on the same endpoint, so the secret and the database are fine: the API's BetterAuth lacks the bearer() plugin, or a proxy in front of it drops the Authorization header. Add bearer() to the API's auth instance, or send the cookie."}, true
	}
	if !gsOK {
		return Verdict{}, false
	}

	// Both forms fail (or only one was tried) although get-session
	// accepts them: the API validates against another secret, another
	// database, or another cookie name. Configuration facts decide.
	symptom := finding.APIRejectsSession
	if f.has(finding.APINullSession) {
		symptom = finding.APINullSession
	}
	apiSeen := "rejects"
	if o := ck; o.Ran() {
		apiSeen = "answers " + o.Seen + " for"
	} else if br.Ran() {
		apiSeen = "answers " + br.Seen + " for"
	}
	server := strings.Join(f.serverSecret, ", ")
	if others := f.othersThanServer(); len(others) > 0 && len(f.serverSecret) > 0 {
		// A source holds another secret: that is the API's, most likely.
		for _, m := range f.all(finding.SecretMissing) {
			if slices.Contains(others, m.Source) {
				return Verdict{ID: finding.SecretMissing, Evidence: append(ev, evidenceOf(m)...),
					Message: fmt.Sprintf("Your API %s a session that BetterAuth accepts: %s sets no secret, so a server started from it verifies with BetterAuth's built-in default and rejects every session the auth service signs. Give it the auth service's BETTER_AUTH_SECRET.", apiSeen, m.Source)}, true
			}
		}
		for _, w := range f.all(finding.SecretWhitespace) {
			// Only stray characters in the secret the source really uses
			// explain it, not in a variable BetterAuth ignores there.
			if strings.Contains(w.Message, "Trimmed, it equals the secret of") && f.currentHasWhitespace(w.Source) {
				return Verdict{ID: finding.SecretWhitespace, Evidence: append(ev, evidenceOf(w)...),
					Message: fmt.Sprintf("Your API %s a session that BetterAuth accepts, because the secrets differ only by stray characters: %s", apiSeen, w.Message)}, true
			}
		}
		if g, ok := f.first(finding.SecretsOrder); ok {
			return Verdict{ID: finding.SecretsOrder, Evidence: append(ev, evidenceOf(g)...),
				Message: fmt.Sprintf("Your API %s a session that BetterAuth accepts: %s So the auth service signs with the older secret while %s holds the newer one.", apiSeen, g.Message, strings.Join(others, ", "))}, true
		}
		v := Verdict{ID: finding.SecretMismatch, Evidence: ev}
		if g, ok := f.first(finding.SecretMismatch); ok {
			v.Evidence = append(v.Evidence, evidenceOf(g)...)
		}
		v.Message = fmt.Sprintf("Your API %s a session that BetterAuth accepts: the auth service signs with the secret of %s; %s holds another, and the API most likely runs with it. Give every service the auth service's BETTER_AUTH_SECRET.", apiSeen, server, strings.Join(others, ", "))
		if !f.dbURLsAgree() {
			v.Alternatives = append(v.Alternatives, Alternative{finding.DBURLMismatch, "the sources also point at different databases"})
		}
		return v, true
	}
	if g, ok := f.first(finding.DBURLMismatch); ok {
		return Verdict{ID: finding.DBURLMismatch, Evidence: append(ev, evidenceOf(g)...),
			Message: fmt.Sprintf("Your API %s a session that BetterAuth accepts, and every source holds the same secret, so the secret is ruled out: %s A session written to one database is not found in the other. Point every service at the auth service's database.", apiSeen, g.Message)}, true
	}
	// Nothing in the sources explains it.
	v := Verdict{ID: symptom, Evidence: ev, Undecided: true}
	bothFail := br.Ran() && br.Result != login.Accepted && ck.Ran() && ck.Result != login.Accepted
	labels, _ := f.signers()
	v.Alternatives = []Alternative{
		{finding.SecretMismatch, "the API runs with another BETTER_AUTH_SECRET"},
		{finding.DBURLMismatch, "the API reads sessions from another database"},
	}
	if !br.Ran() {
		v.Alternatives = append(v.Alternatives, Alternative{finding.CookieNameMismatch, "the API reads another cookie name (cookiePrefix, __Secure- prefix)"})
	}
	loaded := 0
	for _, s := range f.secrets.Sources {
		if s.Loaded {
			loaded++
		}
	}
	base := fmt.Sprintf("Your API %s a session that BetterAuth accepts", apiSeen)
	if symptom == finding.APINullSession {
		base = fmt.Sprintf("Your API answers %s: a null session, so it rejects a session that BetterAuth accepts", firstSeen(ck, br))
	}
	if loaded >= 2 {
		v.Message = base + fmt.Sprintf(", although every env source with a secret (%s) holds the one the auth service signs with, and none names another database: the API runs with values that are not in these files (a hosting dashboard, another env file), or it validates differently.", strings.Join(labels, ", "))
		v.TellApart = "Pull the API's deployed environment and pass it with --env-file; its fingerprint and DATABASE_URL decide between the causes."
	} else {
		if bothFail {
			v.Message = base + ": it validates sessions with another secret or another database (the cookie and the bearer token both fail, so it is not the cookie name). The API's env file was not given, so authtui cannot tell which."
		} else {
			v.Message = base + ": it validates sessions differently, with another secret, another database, or another cookie name. The API's env file was not given, so authtui cannot tell which."
		}
		v.TellApart = "Pass the API's env file (--env-file path/to/api/.env): its secret's fingerprint and its DATABASE_URL decide between the causes."
	}
	return v, true
}

func firstSeen(os ...login.Outcome) string {
	for _, o := range os {
		if o.Ran() && o.Seen != "" {
			return o.Seen
		}
	}
	return "2xx null"
}

func orUnknown(s string) string {
	if s == "" {
		return "(name unknown)"
	}
	return s
}

// browserRule: every request authtui made passed, but a browser on the
// front end's origin drops or withholds the cookie. When Chrome ran, its
// own reasons decide (the browser wins over authtui's prediction from the
// Set-Cookie text, whose contradicted findings finish has dropped);
// otherwise the prediction stands, and running the browser would decide.
func browserRule(f *facts) (Verdict, bool) {
	if b := f.browser; b != nil {
		for _, id := range []finding.ID{finding.OAuthProviderNotFound, finding.OAuthProviderUnreachable, finding.OAuthProviderRefused, finding.OAuthProviderDenied,
			finding.OAuthStateCookieLost, finding.OAuthStateMismatch, finding.OAuthCallbackError,
			finding.BrowserCORSRejected, finding.BrowserCookieRefused, finding.BrowserCookieNotSent, finding.BrowserThirdPartyBlocked,
			finding.BrowserNoSession} {
			g, ok := firstIn(b.Findings, id)
			if !ok {
				continue
			}
			lead := "get-session accepts the session when authtui asks, but in Chrome, on a page on " + b.Origin + ", the front end gets none: "
			if b.Social != "" && f.accepted(login.StepCallback) {
				lead = "authtui's own social sign-in got through, but Chrome's does not (the browser wins): "
			} else if !f.ran || !f.accepted(login.StepGetCookie) {
				lead = "In Chrome, on a page on " + b.Origin + ", the front end gets no session: "
			}
			if id == finding.BrowserThirdPartyBlocked {
				lead = "In Chrome the session works only while third-party cookies are allowed: "
			}
			v := verdictFrom(g, lead+g.Message)
			return v, true
		}
		if sessionIn(b, false) && strings.EqualFold(strings.TrimRight(b.Origin, "/"), strings.TrimRight(f.cfg.Origin.Value, "/")) {
			return Verdict{}, false // Chrome kept and sent it from that origin: no prediction stands
		}
	}
	for _, id := range probe.LossFindings {
		g, ok := f.first(id)
		if !ok {
			continue
		}
		lead := "A browser on " + orUnknown(f.cfg.Origin.Value) + " would not keep or send the session cookie, so the front end sees null: "
		if f.ran && f.accepted(login.StepGetCookie) {
			lead = "get-session accepts the session when authtui asks, but a browser on " + orUnknown(f.cfg.Origin.Value) + " would not keep or send the session cookie, so the front end sees null: "
		}
		v := verdictFrom(g, lead+g.Message)
		if id == finding.SetCookieCrossSite {
			v.Alternatives = []Alternative{{finding.SetCookieThirdParty, "with SameSite=None, browsers that block third-party cookies still drop it"}}
			v.TellApart = "Serve the front end and the auth service from one site (auth.example.com and app.example.com share example.com), or use SameSite=None; Secure and test in each browser."
		}
		if f.browser == nil {
			v.TellApart = strings.TrimSpace(v.TellApart + " This is predicted from the Set-Cookie text; `authtui browser --origin " + orUnknown(f.cfg.Origin.Value) + "` (or check --browser) shows what Chrome itself does.")
		}
		return v, true
	}
	return Verdict{}, false
}

// sessionIn says whether the browser pass (third-party cookies blocked
// or not) ended with a session.
func sessionIn(b *browser.Result, blocked bool) bool {
	for _, p := range b.Passes {
		if p.ThirdPartyBlocked == blocked {
			return p.Session
		}
	}
	return false
}

// configRule: no flow ran, or the flow passed; what the configuration
// alone shows. Errors only; warnings are not a verdict.
var configOrder = []finding.ID{
	finding.EnvFileUnreadable, finding.SecretsMalformed, finding.SecretWhitespace, finding.SecretsOrder,
	finding.EnvironmentCrossed, finding.SecretMismatch, finding.SecretMissing, finding.SecretDefault, finding.TrustedOriginsSpace,
	finding.OriginSchemeMismatch, finding.SecureCookieOverHTTP, finding.DBUnreachable, finding.DBSchemaMissing,
	finding.CookieSignerDiffers, finding.SessionNotFound, finding.SessionExpired, finding.SessionUserMissing,
}

func configRule(f *facts) (Verdict, bool) {
	for _, id := range configOrder {
		g, ok := f.first(id)
		if !ok {
			continue
		}
		msg := g.Message
		if f.ran && (f.accepted(login.StepGetCookie) || f.accepted(login.StepGetBearer)) {
			msg = "The tested path works, but not everything does: " + msg
		}
		return verdictFrom(g, msg), true
	}
	for _, g := range f.findings {
		if g.Severity == finding.Error {
			return verdictFrom(g, g.Message), true
		}
	}
	return Verdict{}, false
}

func healthy(f *facts) Verdict {
	v := Verdict{Healthy: true, Evidence: []finding.Evidence{}, Alternatives: []Alternative{}}
	switch {
	case socialStopped(f) != "":
		v.Message = socialStopped(f)
	case f.ran && len(f.serverSecret) > 0:
		v.Message = fmt.Sprintf("No problem found: the server signs with the secret of %s, and every check that ran accepted the session. If a browser still gets null, paste its Cookie header into authtui decode.", strings.Join(f.serverSecret, ", "))
		v.Evidence = seen(f, login.StepGetCookie, login.StepGetBearer, login.StepAPICookie, login.StepAPIBearer, login.StepReplayProbe)
	case f.ran:
		v.Message = "No problem found in what ran."
	default:
		v.Message = "No problem found in what could be checked. Add credentials (--email, --password-env) or --replay-session to test a real session."
	}
	return v
}

func dbLabel(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(database)"
	}
	return u.Host + u.Path
}

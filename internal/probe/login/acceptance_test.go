package login

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/testenv"
)

// The acceptance rule, audited end to end: a step is ✓ only on positive
// evidence, a failed step always says why, and a run with a failed step
// is never healthy.

// flow runs the login flow to completion, draining its events, and checks
// that the stream and the result agree.
func flow(t *testing.T, opts Options) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	events := make(chan Event, 8)
	done := make(chan *Result, 1)
	go func() { done <- Run(ctx, opts, events) }()
	var streamed []Event
	for e := range events {
		streamed = append(streamed, e)
	}
	res := <-done
	if len(streamed) != len(res.Events) {
		t.Errorf("streamed %d events, result has %d", len(streamed), len(res.Events))
	}
	if res.Cancelled {
		t.Fatal("the run was cancelled")
	}
	t.Logf("steps %s; findings %s", strings.Join(steps(res), " "), ids(res.Findings))
	return res
}

// auditInvariants checks what must hold after every run. secrets are
// strings that no event, finding or outcome may contain.
func auditInvariants(t *testing.T, res *Result, secrets ...string) {
	t.Helper()
	failed := false
	open := map[string]int{}
	for _, e := range res.Events {
		switch e.Phase {
		case "start":
			open[e.Step]++
			continue
		case "end":
			open[e.Step]--
		default:
			t.Errorf("event %s: phase %q", e.Step, e.Phase)
		}
		switch e.Status {
		case StatusFail:
			failed = true
			if len(e.Findings) == 0 {
				t.Errorf("step %s (%s) failed without a finding: %s", e.Step, e.Title, e.Detail)
			}
		case StatusOK:
			if o, ok := res.Outcomes[e.Step]; ok && o.Result != Accepted {
				t.Errorf("step %s (%s) is ✓ but its outcome is %q (%s)", e.Step, e.Title, o.Result, o.Seen)
			}
		case StatusWarn, StatusSkip:
		default:
			t.Errorf("step %s ended with status %q", e.Step, e.Status)
		}
	}
	for step, n := range open {
		if n != 0 {
			t.Errorf("step %s: %d start(s) without an end", step, n)
		}
	}
	// A step that only ever skipped judged nothing: an outcome for it
	// would be read as that endpoint's verdict on the credential.
	skipOnly := map[string]bool{}
	for _, e := range res.Events {
		if e.Phase == "end" {
			if _, seen := skipOnly[e.Step]; !seen {
				skipOnly[e.Step] = true
			}
			skipOnly[e.Step] = skipOnly[e.Step] && e.Status == StatusSkip
		}
	}
	for step, skipped := range skipOnly {
		if o, ok := res.Outcomes[step]; ok && skipped {
			t.Errorf("step %s only skipped, yet recorded the outcome %q (%s)", step, o.Result, o.Seen)
		}
	}
	if res.Failed() != failed {
		t.Errorf("Failed() = %v, but a step failed: %v", res.Failed(), failed)
	}
	if failed && res.Diagnosis.Healthy {
		t.Errorf("a step failed, yet the diagnosis is healthy: %s", res.Diagnosis.Verdict)
	}
	if res.Findings.HasError() && res.Diagnosis.Healthy {
		t.Errorf("error findings (%s), yet the diagnosis is healthy", ids(res.Findings))
	}
	if failed && strings.HasPrefix(res.Diagnosis.Verdict, "No problem") {
		t.Errorf("a step failed, yet the verdict says %q", res.Diagnosis.Verdict)
	}
	for step, o := range res.Outcomes {
		if o.Step != step || !o.Ran() {
			t.Errorf("outcome under %q: %+v", step, o)
		}
	}
	var texts []string
	for _, e := range res.Events {
		texts = append(texts, e.Detail, e.Redirect)
		for _, f := range e.Findings {
			texts = append(texts, f.Message)
		}
	}
	for _, f := range res.Findings {
		texts = append(texts, f.Message)
	}
	for _, o := range res.Outcomes {
		texts = append(texts, o.Seen)
	}
	texts = append(texts, res.Diagnosis.Verdict)
	texts = append(texts, res.Diagnosis.Evidence...)
	for _, s := range secrets {
		for _, txt := range texts {
			if s != "" && strings.Contains(txt, s) {
				t.Errorf("a message holds a secret (%d bytes)", len(s))
				break
			}
		}
	}
}

// expect checks the finding IDs of a run and substrings of their
// messages; absent IDs must not appear.
func expect(t *testing.T, res *Result, want map[finding.ID][]string, absent ...finding.ID) {
	t.Helper()
	for id, subs := range want {
		var msgs []string
		for _, f := range res.Findings {
			if f.ID == id {
				msgs = append(msgs, f.Message)
			}
		}
		if len(msgs) == 0 {
			t.Errorf("no %s; findings: %s", id, ids(res.Findings))
			continue
		}
		for _, sub := range subs {
			found := false
			for _, m := range msgs {
				found = found || strings.Contains(m, sub)
			}
			if !found {
				t.Errorf("no %s message contains %q: %q", id, sub, msgs)
			}
		}
	}
	for _, id := range absent {
		if res.Findings.Has(id) {
			t.Errorf("unexpected %s; findings: %s", id, ids(res.Findings))
		}
	}
}

// expectOutcomes checks the judged result of the given steps ("" = the
// step recorded no outcome).
func expectOutcomes(t *testing.T, res *Result, want map[string]Acceptance) {
	t.Helper()
	for step, acc := range want {
		o, ok := res.Outcomes[step]
		switch {
		case acc == NotRun && ok:
			t.Errorf("outcome %s: %q (%s), want none", step, o.Result, o.Seen)
		case acc != NotRun && o.Result != acc:
			t.Errorf("outcome %s: %q (%s), want %q", step, o.Result, o.Seen, acc)
		}
	}
}

// steps lists the steps of a run's end events, in order.
func steps(res *Result) []string {
	var out []string
	for _, e := range res.Events {
		if e.Phase == "end" {
			out = append(out, e.Step+":"+e.Status)
		}
	}
	return out
}

func lastEnd(t *testing.T, res *Result, step string) Event {
	t.Helper()
	for i := len(res.Events) - 1; i >= 0; i-- {
		if e := res.Events[i]; e.Step == step && e.Phase == "end" {
			return e
		}
	}
	t.Fatalf("no %s step in %v", step, steps(res))
	return Event{}
}

// front puts a server in front of the real one: the routes in override
// ("POST /api/auth/sign-in/email") answer themselves, everything else is
// proxied unchanged.
func front(t *testing.T, real string, override map[string]http.HandlerFunc) string {
	t.Helper()
	u, _ := url.Parse(real)
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, ok := override[r.Method+" "+r.URL.Path]; ok {
			h(w, r)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func serve(status int, header http.Header, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for k, vs := range header {
			w.Header()[k] = vs
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func apiServer(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/api/me"
}

const (
	htmlType = "text/html; charset=utf-8"
	jsonType = "application/json"
)

// TestAuditSignInAnswers: sign-in answered by something in front of
// BetterAuth. /ok is the real server's.
func TestAuditSignInAnswers(t *testing.T) {
	srv := batest.Start(t, batest.Options{Secret: secretA, Bearer: true})
	const email = "audit@example.com"
	batest.SignUp(t, srv.URL, email, password)
	const signIn = "POST /api/auth/sign-in/email"

	cases := []struct {
		name    string
		handler http.HandlerFunc
		id      finding.ID
		msg     func(frontURL string) []string
		result  Acceptance
	}{
		{"301 http to https", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Server", "nginx")
			http.Redirect(w, r, "https://"+r.Host+r.URL.Path, http.StatusMovedPermanently)
		}, finding.LoginUnexpectedStatus, func(f string) []string {
			https := "https://" + strings.TrimPrefix(f, "http://")
			return []string{"POST " + f + "/api/auth/sign-in/email answered 301 → " + https + "/api/auth/sign-in/email", "(Server: nginx)", "a redirect", "use " + https + " as --base-url"}
		}, Rejected},
		{"302 to a login wall", serve(302, http.Header{"Location": {"https://sso.example.com/login?return=%2Fapi"}}, ""),
			finding.LoginUnexpectedStatus, func(string) []string {
				return []string{"answered 302 → https://sso.example.com/login?…", "use the final URL as --base-url", "login page"}
			}, Rejected},
		{"400 from a proxy", serve(400, http.Header{"Server": {"nginx/1.25.3"}, "Content-Type": {htmlType}},
			"<html><head><title>400 Bad Request</title></head><body><center><h1>400 Bad Request</h1></center></body></html>"),
			finding.LoginUnexpectedStatus, func(string) []string {
				return []string{`sign-in answered 400 text/html page "400 Bad Request" (Server: nginx/1.25.3)`, "without a BetterAuth error code", "not BetterAuth"}
			}, Rejected},
		{"403 from a WAF", serve(403, http.Header{"Server": {"cloudflare"}, "Content-Type": {htmlType}, "Cf-Ray": {"8c0ffee000000000-AMS"}},
			"<!DOCTYPE html><html><head><title>Attention Required! | Cloudflare</title></head><body>Sorry, you have been blocked</body></html>"),
			finding.LoginUnexpectedStatus, func(string) []string {
				return []string{`403 text/html page "Attention Required! | Cloudflare" (Server: cloudflare)`, "without a BetterAuth error code", "WAF", "/api/auth/sign-in/email"}
			}, Rejected},
		{"404", http.NotFound, finding.LoginUnexpectedStatus, func(f string) []string {
			return []string{"POST " + f + "/api/auth/sign-in/email answered 404", "nothing serves email/password sign-in there", "basePath"}
		}, Rejected},
		{"405", serve(405, http.Header{"Allow": {"GET, HEAD"}, "Content-Type": {"text/plain"}}, "Method Not Allowed"),
			finding.LoginUnexpectedStatus, func(f string) []string {
				return []string{"POST " + f + `/api/auth/sign-in/email answered 405 text/plain "Method Not Allowed"`, "does not take POST"}
			}, Rejected},
		{"429 from a proxy", serve(429, http.Header{"Retry-After": {"30"}, "Server": {"envoy"}, "Content-Type": {"text/plain"}}, "Too Many Requests"),
			finding.LoginUnexpectedStatus, func(string) []string {
				return []string{`sign-in answered 429 text/plain "Too Many Requests" (Server: envoy)`, "a proxy's or the platform's rate limiter", "Retry-After: 30"}
			}, Rejected},
		{"500", serve(500, http.Header{"Content-Type": {jsonType}}, `{"error":"internal"}`),
			finding.LoginServerError, func(string) []string {
				return []string{`sign-in answered 500 {"error":"internal"}`, "the session was not tested"}
			}, ServerError},
		{"503 from a load balancer", serve(503, http.Header{"Server": {"awselb/2.0"}, "Content-Type": {htmlType}},
			"<html><head><title>503 Service Temporarily Unavailable</title></head></html>"),
			finding.LoginServerError, func(string) []string {
				return []string{`sign-in answered 503 text/html page "503 Service Temporarily Unavailable" (Server: awselb/2.0)`}
			}, ServerError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := front(t, srv.URL, map[string]http.HandlerFunc{signIn: tc.handler})
			res := flow(t, Options{BaseURL: base, Origin: srv.Origin(), Email: email, Password: password, Candidates: candidatesA(t), Timeout: 5 * time.Second})
			auditInvariants(t, res, password, secretA)
			expect(t, res, map[finding.ID][]string{tc.id: tc.msg(base)}, finding.LoginCredentialsRejected, finding.ServerSecretIdentified)
			expectOutcomes(t, res, map[string]Acceptance{StepSignIn: tc.result, StepGetCookie: NotRun, StepAPICookie: NotRun})
			if got := strings.Join(steps(res), " "); got != "ok:ok sign-in:fail" {
				t.Errorf("steps %s: the flow goes on after a failed sign-in", got)
			}
			e := lastEnd(t, res, StepSignIn)
			if e.HTTPStatus != res.Outcomes[StepSignIn].HTTPStatus || e.HTTPStatus < 300 {
				t.Errorf("sign-in event HTTP %d, outcome %d", e.HTTPStatus, res.Outcomes[StepSignIn].HTTPStatus)
			}
			if e.HTTPStatus >= 300 && e.HTTPStatus < 400 && e.Redirect == "" {
				t.Error("a redirect without Redirect")
			}
			if !res.Failed() || res.Diagnosis.Healthy {
				t.Errorf("Failed %v, healthy %v", res.Failed(), res.Diagnosis.Healthy)
			}
		})
	}
}

// TestAuditGetSessionHTML: a CDN serves a cached HTML page for
// get-session, while sign-in and the API are real.
func TestAuditGetSessionHTML(t *testing.T) {
	srv := batest.Start(t, batest.Options{Secret: secretA, Bearer: true})
	const email = "cdn@example.com"
	batest.SignUp(t, srv.URL, email, password)
	page := serve(200, http.Header{"Content-Type": {htmlType}, "Cache-Control": {"public, max-age=600"}, "X-Cache": {"HIT"}, "Age": {"42"}},
		"<!doctype html><html><head><title>Acme</title></head><body><div id=root></div></body></html>")
	base := front(t, srv.URL, map[string]http.HandlerFunc{"GET /api/auth/get-session": page})
	res := flow(t, Options{BaseURL: base, Origin: srv.Origin(), Email: email, Password: password, Candidates: candidatesA(t), Timeout: 5 * time.Second, APIURL: srv.URL + "/api/me"})
	auditInvariants(t, res, password, secretA)
	expect(t, res, map[finding.ID][]string{
		finding.GetSessionNotSession: {"get-session with the cookie answered 200 text/html page \"Acme\"", "get-session with the bearer token answered 200 text/html page", "neither a session nor BetterAuth's null", "/api/auth/get-session"},
	}, finding.GetSessionNull, finding.APIRejectsSession, finding.APINullSession)
	expectOutcomes(t, res, map[string]Acceptance{
		StepSignIn: Accepted, StepGetCookie: NotSession, StepGetBearer: NotSession,
		// The real API accepts the session: that is the API's own evidence.
		StepAPICookie: Accepted, StepAPIBearer: Accepted,
	})
	for _, step := range []string{StepGetCookie, StepGetBearer} {
		if e := lastEnd(t, res, step); e.Status != StatusFail || e.HTTPStatus != 200 {
			t.Errorf("%s: %s %d, want a failure on a 200", step, e.Status, e.HTTPStatus)
		}
	}
	if !res.Failed() || res.Diagnosis.Healthy {
		t.Errorf("Failed %v, healthy %v, verdict %q", res.Failed(), res.Diagnosis.Healthy, res.Diagnosis.Verdict)
	}
}

// TestAuditAPIAnswers: the real BetterAuth accepts the session; the API
// in front of the user's backend answers in ways that are not acceptance.
func TestAuditAPIAnswers(t *testing.T) {
	srv := batest.Start(t, batest.Options{Secret: secretA, Bearer: true})
	const email = "api@example.com"
	batest.SignUp(t, srv.URL, email, password)
	cases := []struct {
		name    string
		apiURL  func(t *testing.T) string
		timeout time.Duration
		want    map[finding.ID][]string
		absent  []finding.ID
		result  Acceptance
		status  int
	}{
		{"real API accepts", func(*testing.T) string { return srv.URL + "/api/me" }, 0,
			map[finding.ID][]string{finding.ServerSecretIdentified: nil},
			[]finding.ID{finding.APIRejectsSession, finding.APINullSession}, Accepted, 200},
		{"200 null", func(t *testing.T) string {
			return apiServer(t, serve(200, http.Header{"Content-Type": {jsonType}}, "null"))
		}, 0,
			map[finding.ID][]string{
				finding.APINullSession:    {"answered 200 null for the cookie", "answered 200 null for the bearer token", "a rejection, not acceptance", "get-session accepted the same cookie"},
				finding.APIRejectsSession: {"answered 200 null for the cookie that get-session accepts"},
			}, nil, Rejected, 200},
		{"200 {}", func(t *testing.T) string {
			return apiServer(t, serve(200, http.Header{"Content-Type": {jsonType}}, "{}"))
		}, 0,
			map[finding.ID][]string{finding.APINullSession: {"answered 200 {} for the cookie"}, finding.APIRejectsSession: nil}, nil, Rejected, 200},
		{"200 session null", func(t *testing.T) string {
			return apiServer(t, serve(200, http.Header{"Content-Type": {jsonType}}, `{"session":null}`))
		}, 0, map[finding.ID][]string{finding.APINullSession: {`answered 200 {"session":null}`}, finding.APIRejectsSession: nil}, nil, Rejected, 200},
		{"302 to sign-in", func(t *testing.T) string {
			return apiServer(t, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "/sign-in?callbackURL=%2Fapi%2Fme", http.StatusFound)
			})
		}, 0, map[finding.ID][]string{finding.APIRejectsSession: {"answered 302 → /sign-in?…: a redirect to a sign-in page for the cookie that get-session accepts"}},
			[]finding.ID{finding.APINullSession}, Rejected, 302},
		{"401", func(t *testing.T) string {
			return apiServer(t, serve(401, http.Header{"Content-Type": {jsonType}}, `{"statusCode":401,"message":"Unauthorized"}`))
		}, 0, map[finding.ID][]string{finding.APIRejectsSession: {`answered 401 {"statusCode":401,"message":"Unauthorized"} for the cookie that get-session accepts`, "for the bearer token that get-session accepts"}},
			[]finding.ID{finding.APINullSession}, Rejected, 401},
		{"500", func(t *testing.T) string {
			return apiServer(t, serve(500, http.Header{"Content-Type": {jsonType}}, `{"statusCode":500,"message":"Internal server error"}`))
		}, 0, map[finding.ID][]string{finding.APIRejectsSession: {"failed instead of validating"}},
			[]finding.ID{finding.APINullSession}, ServerError, 500},
		{"hangs past the timeout", func(t *testing.T) string { return "http://" + testenv.SilentListener(t) + "/api/me" }, 2 * time.Second,
			map[finding.ID][]string{finding.ServerTimeout: {"no answer within 2s"}},
			[]finding.ID{finding.APIRejectsSession, finding.APINullSession}, Unreachable, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			timeout := tc.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			res := flow(t, Options{BaseURL: srv.URL, Email: email, Password: password, Candidates: candidatesA(t), Timeout: timeout, APIURL: tc.apiURL(t)})
			auditInvariants(t, res, password, secretA)
			expect(t, res, tc.want, tc.absent...)
			expectOutcomes(t, res, map[string]Acceptance{
				StepSignIn: Accepted, StepGetCookie: Accepted, StepGetBearer: Accepted,
				StepAPICookie: tc.result, StepAPIBearer: tc.result,
			})
			for _, step := range []string{StepAPICookie, StepAPIBearer} {
				e := lastEnd(t, res, step)
				o := res.Outcomes[step]
				if o.HTTPStatus != tc.status || e.HTTPStatus != tc.status {
					t.Errorf("%s: event HTTP %d, outcome HTTP %d, want %d", step, e.HTTPStatus, o.HTTPStatus, tc.status)
				}
				wantStatus := StatusFail
				if tc.result == Accepted {
					wantStatus = StatusOK
				}
				if e.Status != wantStatus {
					t.Errorf("%s ended %s, want %s: %s", step, e.Status, wantStatus, e.Detail)
				}
			}
			if tc.result == Accepted {
				if res.Failed() || !res.Diagnosis.Healthy || res.Diagnosis.Cause != "" {
					t.Errorf("an accepting API: Failed %v, diagnosis %+v, findings %s", res.Failed(), res.Diagnosis, ids(res.Findings))
				}
				return
			}
			if !res.Failed() || res.Diagnosis.Healthy {
				t.Errorf("Failed %v, healthy %v", res.Failed(), res.Diagnosis.Healthy)
			}
			if res.Findings.Has(finding.APIRejectsSession) && res.Diagnosis.Cause != finding.APIRejectsSession {
				t.Errorf("diagnosis cause %q, want %s", res.Diagnosis.Cause, finding.APIRejectsSession)
			}
		})
	}
}

// TestAuditRealRateLimit: BetterAuth's own rate limiter, on by default in
// production (better-auth 1.7.25, api/rate-limiter: /sign-in* allows 3
// requests per 10 s per IP; without a trusted client IP header every
// client shares one bucket per path), answers 429 with X-Retry-After.
func TestAuditRealRateLimit(t *testing.T) {
	srv := batest.Start(t, batest.Options{Secret: secretA, ExtraEnv: []string{"NODE_ENV=production"}})
	const email = "limited@example.com"
	batest.SignUp(t, srv.URL, email, password) // /sign-up has a bucket of its own
	opts := Options{BaseURL: srv.URL, Email: email, Password: password, Candidates: candidatesA(t), Timeout: 5 * time.Second}
	var limited *Result
	var before []int
	for range 6 {
		res := flow(t, opts)
		auditInvariants(t, res, password, secretA)
		st := res.Outcomes[StepSignIn].HTTPStatus
		if st == http.StatusTooManyRequests {
			limited = res
			break
		}
		before = append(before, st)
	}
	if limited == nil {
		t.Fatalf("no 429 after %d sign-ins (%v): is the rate limiter on with NODE_ENV=production?", len(before), before)
	}
	if fmt.Sprint(before) != "[200 200 200]" {
		t.Logf("sign-ins before the 429: %v (3×200 expected unless 10 s passed between them)", before)
	}
	expect(t, limited, map[finding.ID][]string{
		finding.LoginUnexpectedStatus: {`sign-in answered 429 {"message":"Too many requests. Please try again later."}`, "BetterAuth's own rate limiter", "(X-Retry-After: ", "--replay-session"},
	}, finding.LoginServerError, finding.LoginCredentialsRejected)
	expectOutcomes(t, limited, map[string]Acceptance{StepSignIn: Rejected, StepGetCookie: NotRun})
	if !limited.Failed() || limited.Diagnosis.Healthy {
		t.Errorf("Failed %v, healthy %v", limited.Failed(), limited.Diagnosis.Healthy)
	}
}

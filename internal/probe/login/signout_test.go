package login

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/probe/finding"
)

// sessionsOf counts the session rows of the user with that email.
func sessionsOf(t *testing.T, dsn, email string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM session s JOIN "user" u ON u.id = s."userId" WHERE u.email = $1`, email).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSignOutLeavesNoSession: a login run on a real server on PostgreSQL
// signs its session out at the end, also when a later step failed, and
// keeps it only when asked to.
func TestSignOutLeavesNoSession(t *testing.T) {
	dsn := pgtest.DSN(t)
	srv := batest.Start(t, batest.Options{Secret: secretA, DatabaseURL: dsn, Bearer: true})
	const email = "signout@example.com"
	batest.SignUp(t, srv.URL, email, password) // sign-up signs in: one row of its own
	db, schema := openSchema(t, dsn)
	before := sessionsOf(t, dsn, email)
	opts := Options{BaseURL: srv.URL, Email: email, Password: password, Candidates: candidatesA(t), Timeout: 5 * time.Second, DB: db, Schema: schema}

	t.Run("signed out after every step", func(t *testing.T) {
		o := opts
		o.APIURL = srv.URL + "/api/me"
		res := flow(t, o)
		auditInvariants(t, res, password, secretA)
		got := steps(res)
		if n := len(got); n == 0 || got[n-1] != StepSignOut+":"+StatusOK {
			t.Fatalf("steps %v: the run does not end with a successful sign-out", got)
		}
		if e := lastEnd(t, res, StepSignOut); e.Title != "Sign out the test session" || e.HTTPStatus != 200 || !strings.Contains(e.Detail, "is gone") {
			t.Errorf("sign-out step %q %d %q", e.Title, e.HTTPStatus, e.Detail)
		}
		if n := sessionsOf(t, dsn, email); n != before {
			t.Errorf("%d session rows after the run, %d before: the test session was left behind", n, before)
		}
		if res.Failed() || !res.Diagnosis.Healthy || res.Findings.Has(finding.LoginSignOutFailed) || res.Findings.Has(finding.LoginOverHTTP) {
			t.Errorf("Failed %v, diagnosis %+v, findings %s", res.Failed(), res.Diagnosis, ids(res.Findings))
		}
	})
	t.Run("signed out after a failed step", func(t *testing.T) {
		o := opts
		other := batest.Start(t, batest.Options{Secret: secretC, DatabaseURL: dsn, Bearer: true})
		o.APIURL = other.URL + "/api/me" // rejects the session: another secret
		res := flow(t, o)
		auditInvariants(t, res, password, secretA)
		if !res.Failed() || !res.Findings.Has(finding.APIRejectsSession) {
			t.Fatalf("the API step should fail: %v %s", steps(res), ids(res.Findings))
		}
		if e := lastEnd(t, res, StepSignOut); e.Status != StatusOK {
			t.Errorf("sign-out %s %q", e.Status, e.Detail)
		}
		if n := sessionsOf(t, dsn, email); n != before {
			t.Errorf("%d session rows after a failed run, %d before", n, before)
		}
	})
	t.Run("kept with KeepSession", func(t *testing.T) {
		o := opts
		o.KeepSession = true
		res := flow(t, o)
		auditInvariants(t, res, password, secretA)
		if e := lastEnd(t, res, StepSignOut); e.Status != StatusSkip || !strings.Contains(e.Detail, "--keep-session") || !strings.Contains(e.Detail, "until 20") {
			t.Errorf("sign-out %s %q, want a skip saying the session is kept and until when", e.Status, e.Detail)
		}
		if n := sessionsOf(t, dsn, email); n != before+1 {
			t.Errorf("%d session rows, want %d: the kept session is gone", n, before+1)
		}
	})
	t.Run("a failed sign-out is a finding", func(t *testing.T) {
		base := front(t, srv.URL, map[string]http.HandlerFunc{
			"POST /api/auth/sign-out": serve(502, http.Header{"Content-Type": {htmlType}, "Server": {"nginx"}}, "<html><head><title>502 Bad Gateway</title></head></html>"),
		})
		o := opts
		o.BaseURL, o.Origin = base, srv.Origin()
		n0 := sessionsOf(t, dsn, email)
		res := flow(t, o)
		auditInvariants(t, res, password, secretA)
		e := lastEnd(t, res, StepSignOut)
		expect(t, res, map[finding.ID][]string{finding.LoginSignOutFailed: {"502", "stays valid until 20", "revoke it"}})
		if e.Status != StatusWarn || e.HTTPStatus != 502 {
			t.Errorf("sign-out %s %d %q", e.Status, e.HTTPStatus, e.Detail)
		}
		// Not signing out is worth a warning, not a failed diagnosis.
		if res.Failed() || !res.Diagnosis.Healthy {
			t.Errorf("Failed %v, diagnosis %+v", res.Failed(), res.Diagnosis)
		}
		if n := sessionsOf(t, dsn, email); n != n0+1 {
			t.Errorf("%d rows, want %d: the proxy answered, the session should still be there", n, n0+1)
		}
	})
	t.Run("a 200 that leaves the row is a finding", func(t *testing.T) {
		// The sign-out lands on an instance with another secret: it
		// answers success but cannot verify the cookie, so deletes nothing.
		other := batest.Start(t, batest.Options{Secret: secretC, DatabaseURL: dsn, Bearer: true, TrustedOrigins: []string{srv.Origin()}})
		base := front(t, srv.URL, map[string]http.HandlerFunc{
			"POST /api/auth/sign-out": proxyTo(t, other.URL),
		})
		o := opts
		o.BaseURL, o.Origin = base, srv.Origin()
		n0 := sessionsOf(t, dsn, email)
		res := flow(t, o)
		auditInvariants(t, res, password, secretA)
		expect(t, res, map[finding.ID][]string{finding.LoginSignOutFailed: {`answered 200 {"success":true}, yet the row of session`, "still in the database"}})
		if e := lastEnd(t, res, StepSignOut); e.Status != StatusWarn || e.HTTPStatus != 200 {
			t.Errorf("sign-out %s %d %q", e.Status, e.HTTPStatus, e.Detail)
		}
		if n := sessionsOf(t, dsn, email); n != n0+1 {
			t.Errorf("%d rows, want %d", n, n0+1)
		}
	})
}

// proxyTo forwards a request to another server unchanged.
func proxyTo(t *testing.T, target string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req, err := http.NewRequestWithContext(r.Context(), r.Method, target+r.URL.Path, r.Body)
		if err != nil {
			t.Error(err)
			return
		}
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, vs := range resp.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}
}

// TestSignOutAfterCancel: a run cancelled after sign-in (the user pressed
// esc while get-session hung) still signs its session out.
func TestSignOutAfterCancel(t *testing.T) {
	dsn := pgtest.DSN(t)
	srv := batest.Start(t, batest.Options{Secret: secretA, DatabaseURL: dsn, Bearer: true})
	const email = "cancelled@example.com"
	batest.SignUp(t, srv.URL, email, password)
	before := sessionsOf(t, dsn, email)
	hang := func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
	base := front(t, srv.URL, map[string]http.HandlerFunc{"GET /api/auth/get-session": hang})

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	run, stop := context.WithCancel(ctx)
	defer stop()
	events := make(chan Event)
	done := make(chan *Result, 1)
	go func() {
		done <- Run(run, Options{BaseURL: base, Origin: srv.Origin(), Email: email, Password: password, Candidates: candidatesA(t), Timeout: 30 * time.Second}, events)
	}()
	for e := range events {
		if e.Step == StepGetCookie && e.Phase == "start" {
			stop()
		}
	}
	res := <-done
	if !res.Cancelled {
		t.Fatalf("not cancelled: %v", steps(res))
	}
	// Without a database the run cannot confirm the sign-out, so the step
	// says what it did (skip), not ✓; the test's own query confirms it.
	if e := lastEnd(t, res, StepSignOut); e.Status != StatusSkip || !strings.Contains(e.Detail, "sign-out sent") {
		t.Errorf("sign-out after cancel: %s %q", e.Status, e.Detail)
	}
	if n := sessionsOf(t, dsn, email); n != before {
		t.Errorf("%d rows after a cancelled run, %d before", n, before)
	}
}

// TestDroppedConnectionSaysSo: a server (or proxy) that closes the
// connection instead of answering is not "unreachable … EOF".
func TestDroppedConnectionSaysSo(t *testing.T) {
	srv := batest.Start(t, batest.Options{Secret: secretA})
	const email = "dropped@example.com"
	batest.SignUp(t, srv.URL, email, password)
	hijack := func(t *testing.T, raw string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			c, buf, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			buf.WriteString(raw)
			buf.Flush()
			c.Close()
		}
	}
	cases := []struct {
		name, raw string
		want      []string
	}{
		{"closed before answering", "", []string{"took the request, but the server closed the connection before answering", "a crash, a proxy timeout"}},
		{"closed mid-answer", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{\"redirect\":false,", []string{"in the middle of its answer (status 200, after 18 bytes of the body)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := front(t, srv.URL, map[string]http.HandlerFunc{"POST /api/auth/sign-in/email": hijack(t, tc.raw)})
			res := flow(t, Options{BaseURL: base, Origin: srv.Origin(), Email: email, Password: password, Candidates: candidatesA(t), Timeout: 5 * time.Second})
			auditInvariants(t, res, password, secretA)
			expect(t, res, map[finding.ID][]string{finding.ServerUnreachable: tc.want})
			for _, f := range res.Findings {
				if strings.Contains(f.Message, "EOF") || strings.Contains(f.Message, "cannot reach") {
					t.Errorf("%s: %q", f.ID, f.Message)
				}
			}
			if e := lastEnd(t, res, StepSignIn); strings.Contains(e.Detail, "EOF") {
				t.Errorf("sign-in detail %q", e.Detail)
			}
		})
	}
}

// loopbackFor routes the given host names to loopback addresses, so that a
// test can use non-loopback URLs while every byte stays on this machine.
func loopbackFor(t *testing.T, hosts map[string]string) *http.Client {
	t.Helper()
	var d net.Dialer
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, _ := net.SplitHostPort(addr)
		to, ok := hosts[host]
		if !ok {
			t.Errorf("a request to %s, which is not routed to loopback", addr)
			return nil, &net.AddrError{Err: "not routed", Addr: addr}
		}
		return d.DialContext(ctx, network, to)
	}}}
}

// TestLoginOverHTTPWarns: http:// to a host that is not loopback carries
// the test password (the auth service) or the session (the API) in clear.
func TestLoginOverHTTPWarns(t *testing.T) {
	// The front end is on the same site, so that nothing but the scheme
	// is wrong.
	const app = "http://app.example.test"
	dsn := pgtest.DSN(t)
	srv := batest.Start(t, batest.Options{Secret: secretA, Bearer: true, TrustedOrigins: []string{app}, DatabaseURL: dsn})
	const email = "clear@example.com"
	batest.SignUp(t, srv.URL, email, password)
	addr := strings.TrimPrefix(srv.URL, "http://")
	client := loopbackFor(t, map[string]string{"auth.example.test": addr, "api.example.test": addr})
	res := flow(t, Options{
		BaseURL: "http://auth.example.test", Origin: app, APIURL: "http://api.example.test/api/me",
		Email: email, Password: password, Candidates: candidatesA(t), Timeout: 5 * time.Second, Client: client,
	})
	auditInvariants(t, res, password, secretA)
	var clear []finding.Finding
	for _, f := range res.Findings {
		if f.ID == finding.LoginOverHTTP {
			clear = append(clear, f)
		}
	}
	if len(clear) != 2 {
		t.Fatalf("%d login-over-http findings, want one for the base URL and one for the API: %s", len(clear), ids(res.Findings))
	}
	if f := clear[0]; f.Source != StepSignIn || !strings.Contains(f.Message, "sign-in sent the test password to http://auth.example.test over plain http") {
		t.Errorf("base: %+v", f)
	}
	if f := clear[1]; f.Source != StepAPICookie || !strings.Contains(f.Message, "the session (its cookie or bearer token) to http://api.example.test over plain http") {
		t.Errorf("API: %+v", f)
	}
	if e := lastEnd(t, res, StepSignIn); e.Status != StatusWarn || !strings.Contains(e.Detail, "plain http") {
		t.Errorf("sign-in %s %q", e.Status, e.Detail)
	}
	// A warning, not a failure: the session itself works.
	if res.Failed() || !res.Diagnosis.Healthy {
		t.Errorf("Failed %v, diagnosis %+v", res.Failed(), res.Diagnosis)
	}

	// A replay sends a real user's session the same way.
	db, schema := openSchema(t, dsn)
	res = flow(t, Options{BaseURL: "http://auth.example.test", Origin: app, ReplaySession: "latest", DB: db, Schema: schema, Candidates: candidatesA(t), Timeout: 5 * time.Second, Client: client})
	auditInvariants(t, res, password, secretA)
	expect(t, res, map[finding.ID][]string{finding.LoginOverHTTP: {"the replay sent a real user's session to http://auth.example.test over plain http"}})
	if res.Outcomes[StepReplayProbe].Result != Accepted {
		t.Errorf("the replay: %+v", res.Outcomes[StepReplayProbe])
	}
}

package login

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authtui/authtui/internal/testenv"

	"github.com/authtui/authtui/internal/probe/finding"
)

// Servers that are not BetterAuth, or are broken on purpose: every case
// ends with a finding and never hangs past the step timeout.

func runAgainst(t *testing.T, url string, opts Options) *Result {
	t.Helper()
	opts.BaseURL = url
	if opts.Timeout == 0 {
		opts.Timeout = 500 * time.Millisecond
	}
	if opts.Email == "" {
		opts.Email, opts.Password = "test@example.com", "not-a-real-password"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	events := make(chan Event, 64)
	res := Run(ctx, opts, events)
	n := 0
	for range events {
		n++
	}
	if n != len(res.Events) {
		t.Errorf("streamed %d events, result has %d", n, len(res.Events))
	}
	return res
}

func TestHangingServerTimesOut(t *testing.T) {
	start := time.Now()
	res := runAgainst(t, "http://"+testenv.SilentListener(t), Options{})
	if !res.Findings.Has(finding.ServerTimeout) {
		t.Fatalf("findings %v", res.Findings)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v with a 500ms step timeout", d)
	}
	if res.Diagnosis.Cause != finding.ServerTimeout {
		t.Errorf("diagnosis %+v", res.Diagnosis)
	}
}

func TestStoppedServerUnreachable(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	res := runAgainst(t, "http://"+addr, Options{})
	if !res.Findings.Has(finding.ServerUnreachable) || !strings.Contains(res.Diagnosis.Verdict, "cannot be reached") {
		t.Fatalf("%v / %s", res.Findings, res.Diagnosis.Verdict)
	}
}

func TestNotBetterAuthRedirectShown(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/login?next=%1b]0;pwned%07", http.StatusFound)
	}))
	defer srv.Close()
	res := runAgainst(t, srv.URL, Options{})
	if !res.Findings.Has(finding.ServerNotBetterAuth) {
		t.Fatalf("%v", res.Findings)
	}
	last := res.Events[len(res.Events)-1]
	if last.HTTPStatus != http.StatusFound || !strings.HasPrefix(last.Redirect, "/login") {
		t.Errorf("redirect not shown: %+v", last)
	}
}

func TestHugeBodyIsCapped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/auth/ok" {
			w.Write([]byte(`{"ok":true}`))
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
		chunk := []byte(strings.Repeat("x", 1<<16))
		for i := 0; i < 10*16; i++ { // 10 MiB, or until the client hangs up
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	res := runAgainst(t, srv.URL, Options{Timeout: 5 * time.Second})
	if !res.Findings.Has(finding.LoginCredentialsRejected) {
		t.Fatalf("%v", res.Findings)
	}
	for _, f := range res.Findings {
		if len(f.Message) > 2000 {
			t.Errorf("finding carries %d bytes of body", len(f.Message))
		}
	}
}

func TestSignInWithoutCookie(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/auth/ok" {
			w.Write([]byte(`{"ok":true}`))
			return
		}
		w.Write([]byte(`{"redirect":false,"token":"x"}`)) // a CDN ate the Set-Cookie
	}))
	defer srv.Close()
	res := runAgainst(t, srv.URL, Options{})
	if !res.Findings.Has(finding.LoginNoCookie) {
		t.Fatalf("%v", res.Findings)
	}
}

func TestCancelStopsTheRun(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-block
	}))
	defer srv.Close()
	defer close(block)
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan Event)
	done := make(chan *Result)
	go func() {
		done <- Run(ctx, Options{BaseURL: srv.URL, Timeout: time.Minute, Email: "a@b.c", Password: "x"}, events)
	}()
	<-events // the first step started
	cancel()
	for range events {
	}
	select {
	case res := <-done:
		if !res.Cancelled {
			t.Error("result not marked cancelled")
		}
		// Cancelled before sign-in: there is no session to sign out.
		for _, e := range res.Events {
			if e.Step == StepSignOut {
				t.Errorf("a sign-out step (%s) in a run cancelled before sign-in", e.Phase)
			}
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop after cancel")
	}
}

func TestDiagnoseOrder(t *testing.T) {
	var fs finding.List
	fs.Add(finding.SecretMismatch, "", "a and b differ")
	fs.Add(finding.APIRejectsSession, "api-cookie", "401")
	fs.Add(finding.ServerSecretIdentified, "auth.env", "signs with auth.env")
	d := Diagnose(fs, DiagnoseContext{ServerSecret: []string{"auth.env"}, Signers: []string{"auth.env", "api.env"}})
	if d.Cause != finding.APIRejectsSession || !strings.Contains(d.Verdict, "auth.env") || !strings.Contains(d.Verdict, "api.env holds another") {
		t.Errorf("%+v", d)
	}
	fs.Add(finding.ServerUnreachable, "ok", "refused")
	if d := Diagnose(fs, DiagnoseContext{}); d.Cause != finding.ServerUnreachable {
		t.Errorf("an unreachable server comes first: %+v", d)
	}
	if d := Diagnose(nil, DiagnoseContext{ServerSecret: []string{"auth.env"}}); !d.Healthy || !strings.HasPrefix(d.Verdict, "No problem") {
		t.Errorf("healthy: %+v", d)
	}
}

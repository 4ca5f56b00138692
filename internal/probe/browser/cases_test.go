package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/testenv"
)

// A Partitioned (CHIPS) SameSite=None; Secure cookie on a cross-site
// front end: Chrome keeps it, in a jar of the front end's site, even with
// third-party cookies blocked. authtui's Set-Cookie analysis called it a
// third-party cookie until the browser probe disagreed (the first
// browser-analysis-disagrees); now they agree, and the run is clean.
func TestBrowserPartitionedKeptWithThirdPartyBlocked(t *testing.T) {
	chrome(t)
	dsn := pgtest.DSN(t)
	port, _ := testenv.FreePort()
	front := fmt.Sprintf("http://localhost:%d", port)
	srv := batest.Start(t, batest.Options{DatabaseURL: dsn, ExtraEnv: []string{"FIXTURE_SAMESITE=none", "FIXTURE_SECURE=1",
		"FIXTURE_PARTITIONED=1", "FIXTURE_CORS_ORIGIN=" + front, "BETTER_AUTH_TRUSTED_ORIGINS=" + front}})
	batest.SignUp(t, srv.URL, "web@example.com", password)
	res := run(t, Options{Origin: front, BaseURL: srv.URL})
	noDisagreement(t, res)
	if !res.Passes[0].Session || !res.Passes[1].Session || len(res.Findings) != 0 {
		t.Fatalf("Partitioned: %+v %v", res.Passes, res.Findings)
	}
	if j := res.Passes[1].Jar; len(j) == 0 || j[0].Partition != "http://localhost" {
		t.Errorf("the jar's partition key: %+v", j)
	}
}

// Other host names on loopback through --host-resolver-rules, and https
// with a certificate the test makes (Chrome told to accept it): Chrome
// treats such an origin as https, so a Secure cookie is stored; the same
// host over plain http is not potentially trustworthy (only localhost and
// loopback addresses are, by name), so Chrome refuses the Secure cookie,
// as the Set-Cookie analysis predicts.
func TestBrowserHTTPSOnMappedHosts(t *testing.T) {
	chrome(t)
	dsn := pgtest.DSN(t)
	const front = "https://app.example.test"
	srv := batest.Start(t, batest.Options{DatabaseURL: dsn, ExtraEnv: []string{"FIXTURE_SECURE=1",
		"FIXTURE_CORS_ORIGIN=" + front, "BETTER_AUTH_TRUSTED_ORIGINS=" + front}})
	batest.SignUp(t, srv.URL, "web@example.com", password)
	u, _ := url.Parse(srv.URL)
	tlsProxy := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(u))
	t.Cleanup(tlsProxy.Close)
	_, tlsPort, _ := net.SplitHostPort(strings.TrimPrefix(tlsProxy.URL, "https://"))
	rules := "MAP auth.example.test 127.0.0.1, MAP app.example.test 127.0.0.1"

	res := run(t, Options{Origin: front, BaseURL: "https://auth.example.test:" + tlsPort, HostResolverRules: rules, IgnoreCertErrors: true})
	noDisagreement(t, res)
	if !res.Passes[0].Session || !res.Passes[1].Session || len(res.Findings) != 0 {
		t.Fatalf("https, same site: %+v %v", res.Passes, res.Findings)
	}
	if j := res.Passes[0].Jar; len(j) == 0 || !j[0].Secure {
		t.Errorf("a Secure cookie in the jar: %+v", j)
	}

	// The same over http: auth.example.test is not loopback by name.
	plain := batest.Start(t, batest.Options{DatabaseURL: dsn, ExtraEnv: []string{"FIXTURE_SECURE=1",
		"FIXTURE_CORS_ORIGIN=http://app.example.test", "BETTER_AUTH_TRUSTED_ORIGINS=http://app.example.test"}})
	pu, _ := url.Parse(plain.URL)
	res = run(t, Options{Origin: "http://app.example.test", BaseURL: "http://auth.example.test:" + pu.Port(), HostResolverRules: rules})
	noDisagreement(t, res)
	if res.Passes[0].Session || !res.Findings.Has(finding.BrowserCookieRefused) {
		t.Fatalf("Secure over http on a mapped host: %+v %v", res.Passes, res.Findings)
	}
	t.Logf("reasons: %v", res.Findings)
}

// A real front end (Chrome loads its page; the sign-in runs there) on
// the auth service's site: the session is kept.
func TestBrowserRealFrontend(t *testing.T) {
	chrome(t)
	dsn := pgtest.DSN(t)
	fe := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<!doctype html><title>front end</title><p>app")
	}))
	t.Cleanup(fe.Close)
	srv := batest.Start(t, batest.Options{DatabaseURL: dsn, ExtraEnv: []string{"FIXTURE_CORS_ORIGIN=" + fe.URL, "BETTER_AUTH_TRUSTED_ORIGINS=" + fe.URL}})
	batest.SignUp(t, srv.URL, "web@example.com", password)
	res := run(t, Options{FrontendURL: fe.URL + "/login", BaseURL: srv.URL})
	noDisagreement(t, res)
	if res.Origin != fe.URL || !res.Passes[0].Session || len(res.Findings) != 0 {
		t.Fatalf("a real front end: %s %+v %v", res.Origin, res.Passes, res.Findings)
	}
	if _, err := Run(context.Background(), Options{FrontendURL: fe.URL, Origin: "http://localhost:1", BaseURL: srv.URL}); err == nil {
		t.Error("--origin and --frontend-url that disagree: no error")
	}
}

// A server that never answers: the pass times out, says so
// (browser-run-failed, not a cookie verdict), and neither Chrome nor its
// profile is left behind; a cancel (Ctrl-C) mid-run likewise.
func TestBrowserHangingServerAndCancel(t *testing.T) {
	chrome(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted := make(chan struct{}, 64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
			select {
			case accepted <- struct{}{}:
			default:
			}
		}
	}()
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	began := time.Now()
	res, err := Run(ctx, Options{Origin: base, BaseURL: base, Email: "web@example.com", Password: password, Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("hanging server: both passes gave up after %v", time.Since(began).Round(time.Millisecond))
	if !res.Findings.Has(finding.BrowserRunFailed) || res.Findings.Has(finding.BrowserCookieRefused) {
		t.Errorf("a hanging server: %v", res.Findings)
	}
	leftBehind(t, tmp)

	// Ctrl-C while the first pass waits on the server: the run stops there.
	for len(accepted) > 0 {
		<-accepted
	}
	cctx, ccancel := context.WithCancel(context.Background())
	go func() { <-accepted; ccancel() }()
	res, err = Run(cctx, Options{Origin: base, BaseURL: base, Email: "web@example.com", Password: password, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Passes) != 1 {
		t.Errorf("a cancelled run went on: %d passes (%+v)", len(res.Passes), res.Passes)
	}
	leftBehind(t, tmp)
}

func leftBehind(t *testing.T, tmp string) {
	t.Helper()
	if n := running(tmp); n != 0 {
		t.Errorf("%d Chrome processes left behind", n)
	}
	entries, _ := os.ReadDir(tmp)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "authtui-chrome-") {
			t.Errorf("profile %s left behind", e.Name())
		}
	}
}

// The first disagreement the probe found, as Chrome and the analysis of
// that day reported it: Judge names it, and nothing else.
func TestJudgeDisagreementCaptured(t *testing.T) {
	b, err := os.ReadFile("testdata/partitioned-before-fix.json")
	if err != nil {
		t.Fatal(err)
	}
	var res Result
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	fs := Judge(&res)
	if len(fs) != 1 || fs[0].ID != finding.BrowserAnalysisDisagrees || !strings.Contains(fs[0].Message, "kept it with third-party cookies blocked") {
		t.Fatalf("findings: %v", fs)
	}
}

// CORS that names the front end but leaves out
// Access-Control-Allow-Credentials (a CORS middleware without
// credentials: true, or a proxy that drops the header): Chrome refuses
// every credentialed answer, and says which header is missing.
func TestBrowserCORSWithoutCredentials(t *testing.T) {
	chrome(t)
	dsn := pgtest.DSN(t)
	port, _ := testenv.FreePort()
	front := fmt.Sprintf("http://localhost:%d", port)
	srv := batest.Start(t, batest.Options{DatabaseURL: dsn, ExtraEnv: []string{"FIXTURE_SAMESITE=none",
		"FIXTURE_CORS_ORIGIN=" + front, "BETTER_AUTH_TRUSTED_ORIGINS=" + front}})
	batest.SignUp(t, srv.URL, "web@example.com", password)
	u, _ := url.Parse(srv.URL)
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(r *http.Response) error {
		r.Header.Del("Access-Control-Allow-Credentials")
		return nil
	}
	proxy := httptest.NewServer(rp)
	t.Cleanup(proxy.Close)
	res := run(t, Options{Origin: front, BaseURL: proxy.URL})
	f, ok := firstOf(res, finding.BrowserCORSRejected)
	if !ok || !strings.Contains(f.Message, "AllowCredentials") || res.Passes[0].Session {
		t.Fatalf("%s", dump(res))
	}
	t.Logf("%s", f.Message)
}

// A pass without a session always carries a finding, also when Chrome
// has no reason of its own: a CDN rule that strips Set-Cookie (the
// sign-in's answer has no cookie at all), and two deployments behind one
// host where a rewrite sends the sign-in to one and get-session to
// another with a different secret (Chrome keeps and sends the cookie;
// the server says no).
func TestBrowserNoSessionWithoutChromeReason(t *testing.T) {
	chrome(t)
	dsn := pgtest.DSN(t)
	// The proxies first: BetterAuth must trust their origins.
	var cdnH, splitH http.Handler
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { cdnH.ServeHTTP(w, r) }))
	t.Cleanup(cdn.Close)
	split := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { splitH.ServeHTTP(w, r) }))
	t.Cleanup(split.Close)
	trusted := "BETTER_AUTH_TRUSTED_ORIGINS=" + cdn.URL + "," + split.URL
	srv := batest.Start(t, batest.Options{DatabaseURL: dsn, ExtraEnv: []string{trusted}})
	other := batest.Start(t, batest.Options{DatabaseURL: dsn, Secret: "authtui-fixture-secret-Z-another-one-0123456789", ExtraEnv: []string{trusted}})
	batest.SignUp(t, srv.URL, "web@example.com", password)
	u, _ := url.Parse(srv.URL)
	ou, _ := url.Parse(other.URL)

	strip := httputil.NewSingleHostReverseProxy(u)
	strip.ModifyResponse = func(r *http.Response) error { r.Header.Del("Set-Cookie"); return nil }
	cdnH = strip
	res := run(t, Options{Origin: cdn.URL, BaseURL: cdn.URL})
	if res.Passes[0].Session || !res.Findings.Has(finding.LoginNoCookie) {
		t.Errorf("Set-Cookie stripped: %s", dump(res))
	}

	toA, toB := httputil.NewSingleHostReverseProxy(u), httputil.NewSingleHostReverseProxy(ou)
	splitH = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/sign-in/") {
			toA.ServeHTTP(w, r)
			return
		}
		toB.ServeHTTP(w, r)
	})
	res = run(t, Options{Origin: split.URL, BaseURL: split.URL})
	f, ok := firstOf(res, finding.BrowserNoSession)
	if res.Passes[0].Session || !ok || res.Findings.Has(finding.BrowserCookieRefused) {
		t.Fatalf("get-session on another secret: %s", dump(res))
	}
	t.Logf("%s", f.Message)
}

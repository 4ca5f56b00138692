package login

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/finding"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const (
	secretA  = "authtui-fixture-secret-A-0123456789abcdef"
	secretC  = "authtui-fixture-secret-C-00112233445566778899"
	password = "correct horse battery staple"
)

// splitProxy plays a load balancer in front of two BetterAuth instances:
// sign-in (and everything else) goes to first, get-session to second.
func splitProxy(t *testing.T, first, second string) string {
	t.Helper()
	u1, _ := url.Parse(first)
	u2, _ := url.Parse(second)
	p1, p2 := httputil.NewSingleHostReverseProxy(u1), httputil.NewSingleHostReverseProxy(u2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/get-session") {
			p2.ServeHTTP(w, r)
			return
		}
		p1.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func candidatesA(t *testing.T) []probe.Candidate {
	return probe.Candidates([]probe.Source{{Label: "auth.env", Vars: map[string]string{"BETTER_AUTH_SECRET": secretA}}})
}

// runThrough signs in through the proxy at base. BetterAuth checks Origin
// against its own BETTER_AUTH_URL, so origin is the instance's URL.
func runThrough(t *testing.T, base, origin string) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return Run(ctx, Options{BaseURL: base, Email: "lb@example.com", Password: password, Candidates: candidatesA(t), Timeout: 5 * time.Second, Origin: origin}, nil)
}

// How get-session's null differs, on real servers behind a splitting proxy.
func TestGetSessionNullKinds(t *testing.T) {
	dsn := pgtest.DSN(t)
	a := batest.Start(t, batest.Options{Secret: secretA, DatabaseURL: dsn, Bearer: true})
	batest.SignUp(t, a.URL, "lb@example.com", password)

	t.Run("instance on another secret: bad signature", func(t *testing.T) {
		b := batest.Start(t, batest.Options{Secret: secretC, DatabaseURL: dsn, Bearer: true})
		res := runThrough(t, splitProxy(t, a.URL, b.URL), a.URL)
		if !res.Findings.Has(finding.GetSessionNull) || res.Findings.Has(finding.SetCookieCleared) {
			t.Fatalf("findings %v", ids(res.Findings))
		}
		if res.Diagnosis.Cause != finding.GetSessionNull || !strings.Contains(res.Diagnosis.Verdict, "signature did not verify") {
			t.Errorf("diagnosis %+v", res.Diagnosis)
		}
	})
	t.Run("instance on another database: signature fine, no row", func(t *testing.T) {
		other := pgtest.DSN(t)
		b := batest.Start(t, batest.Options{Secret: secretA, DatabaseURL: other, Bearer: true})
		res := runThrough(t, splitProxy(t, a.URL, b.URL), a.URL)
		if !res.Findings.Has(finding.GetSessionNull) || !res.Findings.Has(finding.SetCookieCleared) {
			t.Fatalf("findings %v", ids(res.Findings))
		}
		if !strings.Contains(res.Diagnosis.Verdict, "no valid session row") {
			t.Errorf("diagnosis %+v", res.Diagnosis)
		}
	})
	t.Run("instance whose database fails: 5xx", func(t *testing.T) {
		broken := pgtest.DSN(t)
		b := batest.Start(t, batest.Options{Secret: secretA, DatabaseURL: broken, Bearer: true})
		conn, err := pgx.Connect(context.Background(), broken)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(context.Background(), `ALTER TABLE session RENAME TO session_gone`); err != nil {
			t.Fatal(err)
		}
		conn.Close(context.Background())
		res := runThrough(t, splitProxy(t, a.URL, b.URL), a.URL)
		if !res.Findings.Has(finding.GetSessionError) || res.Diagnosis.Cause != finding.GetSessionError {
			t.Fatalf("findings %v, cause %s", ids(res.Findings), res.Diagnosis.Cause)
		}
	})
}

func ids(fs finding.List) string {
	var s []string
	for _, f := range fs {
		s = append(s, string(f.ID))
	}
	return strings.Join(s, " ")
}

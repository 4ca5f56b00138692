package pgtest_test

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authtui/authtui/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func TestDSN(t *testing.T) {
	t.Parallel()
	a, b := pgtest.DSN(t), pgtest.DSN(t)
	if a == b {
		t.Fatalf("two DSN calls returned the same URL %s", a)
	}
	for _, dsn := range []string{a, b} {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		if os.Getenv(pgtest.EnvDatabaseURL) == "" {
			if u.Scheme != "postgres" || u.User.Username() != "postgres" || u.Hostname() != "127.0.0.1" ||
				u.Query().Get("sslmode") != "disable" {
				t.Errorf("DSN %s: want postgres://postgres@127.0.0.1:PORT/NAME?sslmode=disable", dsn)
			}
		}
	}

	ctx := context.Background()
	ca, cb := connect(t, a), connect(t, b)
	var nameA, nameB string
	if err := ca.QueryRow(ctx, "SELECT current_database()").Scan(&nameA); err != nil {
		t.Fatal(err)
	}
	if err := cb.QueryRow(ctx, "SELECT current_database()").Scan(&nameB); err != nil {
		t.Fatal(err)
	}
	if nameA == nameB || "/"+nameA != mustURL(t, a).Path {
		t.Fatalf("databases %q and %q for %s and %s", nameA, nameB, a, b)
	}
	// Distinct databases: a table made in one is not in the other.
	if _, err := ca.Exec(ctx, "CREATE TABLE only_in_a (x int)"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := cb.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatal("table created in the first database is visible in the second")
	}
}

// TestDSNDropped checks that a test's database is gone after its cleanup,
// even with a connection still open.
func TestDSNDropped(t *testing.T) {
	t.Parallel()
	var name string
	t.Run("inner", func(t *testing.T) {
		dsn := pgtest.DSN(t)
		name = strings.TrimPrefix(mustURL(t, dsn).Path, "/")
		// Never closed: the drop has to terminate it.
		c, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	su := connect(t, pgtest.Superuser(t))
	var n int
	if err := su.QueryRow(context.Background(), "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("database %s still exists after the test's cleanup", name)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestSeedBetterAuth(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	res := pgtest.SeedBetterAuth(t, dsn, pgtest.SeedOptions{})
	ctx := context.Background()
	c := connect(t, dsn)

	var tables []string
	rows, err := c.Query(ctx, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
	if err != nil {
		t.Fatal(err)
	}
	tables, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"account", "session", "user", "verification"} {
		if i := sort.SearchStrings(tables, want); i == len(tables) || tables[i] != want {
			t.Errorf("table %q missing; tables: %v", want, tables)
		}
	}

	if len(res.Users) != 3 || len(res.Sessions) != 6 {
		t.Fatalf("seed returned %d users, %d sessions; want 3, 6", len(res.Users), len(res.Sessions))
	}
	var users, sessions int
	if err := c.QueryRow(ctx, `SELECT (SELECT count(*) FROM "user"), (SELECT count(*) FROM session)`).Scan(&users, &sessions); err != nil {
		t.Fatal(err)
	}
	if users != 3 || sessions != 6 {
		t.Fatalf("database has %d users, %d sessions; want 3, 6", users, sessions)
	}
	if res.CookieName != "better-auth.session_token" {
		t.Errorf("cookie name %q", res.CookieName)
	}

	emails := map[string]string{} // id -> email
	for i, u := range res.Users {
		if want := "user" + string(rune('1'+i)) + "@example.com"; u.Email != want {
			t.Errorf("user %d email %q, want %q", i, u.Email, want)
		}
		emails[u.ID] = u.Email
	}

	rows, err = c.Query(ctx, `SELECT id, token, "userId", coalesce("userAgent", ''), coalesce("ipAddress", '') FROM session`)
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ id, token, userID, ua, ip string }
	byToken := map[string]row{}
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.token, &r.userID, &r.ua, &r.ip); err != nil {
			t.Fatal(err)
		}
		byToken[r.token] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}

	hostile := 0
	for i, s := range res.Sessions {
		r, ok := byToken[s.Token]
		if !ok {
			t.Errorf("session %d: token not in session.token", i)
			continue
		}
		if r.id != s.ID || r.userID != s.UserID || r.ua != s.UserAgent || r.ip != s.IPAddress {
			t.Errorf("session %d: row %+v, seed said %+v", i, r, s)
		}
		if _, ok := emails[s.UserID]; !ok {
			t.Errorf("session %d: user %s not among the seeded users", i, s.UserID)
		}
		dot := strings.LastIndex(s.Cookie, ".")
		if dot < 0 {
			t.Errorf("session %d: cookie has no '.'", i)
			continue
		}
		tok, err := url.QueryUnescape(s.Cookie[:dot])
		if err != nil || tok != s.Token {
			t.Errorf("session %d: cookie token part %q (%v), want %q", i, s.Cookie[:dot], err, s.Token)
		}
		if sig, err := url.QueryUnescape(s.Cookie[dot+1:]); err != nil || len(sig) != 44 || !strings.HasSuffix(sig, "=") {
			t.Errorf("session %d: cookie signature %q is not 44 base64 chars ending in '='", i, sig)
		}
		if !strings.Contains(s.Cookie, "%") {
			t.Errorf("session %d: cookie %q is not URL-encoded", i, s.Cookie)
		}
		if s.UserAgent == pgtest.SeedHostileUserAgent {
			hostile++
			if i != 0 {
				t.Errorf("hostile user agent on session %d, want the first", i)
			}
		}
		if s.IPAddress == "" {
			t.Errorf("session %d: no ipAddress recorded", i)
		}
	}
	if hostile != 1 {
		t.Errorf("%d sessions with the hostile user agent, want 1", hostile)
	}
}

func TestSeedOptions(t *testing.T) {
	t.Parallel()
	res := pgtest.SeedBetterAuth(t, pgtest.DSN(t), pgtest.SeedOptions{
		Users: 1, SessionsPerUser: 1, BaseURL: "https://auth.example.com",
		Env: []string{"FIXTURE_COOKIE_PREFIX=myapp"},
	})
	if len(res.Users) != 1 || len(res.Sessions) != 1 {
		t.Fatalf("got %d users, %d sessions; want 1, 1", len(res.Users), len(res.Sessions))
	}
	if res.CookieName != "__Secure-myapp.session_token" {
		t.Errorf("cookie name %q, want __Secure-myapp.session_token", res.CookieName)
	}
}

// TestMissingBinaries re-runs this test binary with the PostgreSQL binaries
// hidden: DSN must skip normally and fail with CI=true, both with the message.
func TestMissingBinaries(t *testing.T) {
	if os.Getenv("PGTEST_CHILD") == "1" {
		t.Skip("child process")
	}
	t.Parallel()
	for _, ci := range []bool{false, true} {
		env := []string{"PGTEST_CHILD=1", pgtest.EnvPGBin + "=/nonexistent"}
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "CI=") && !strings.HasPrefix(kv, pgtest.EnvDatabaseURL+"=") {
				env = append(env, kv)
			}
		}
		if ci {
			env = append(env, "CI=true")
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestDSN$", "-test.v", "-test.count=1")
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if !strings.Contains(string(out), pgtest.MissingBinariesMessage) {
			t.Errorf("CI=%v: output lacks %q:\n%s", ci, pgtest.MissingBinariesMessage, out)
		}
		switch {
		case ci && err == nil:
			t.Errorf("CI=true: the test passed without PostgreSQL:\n%s", out)
		case !ci && (err != nil || !strings.Contains(string(out), "--- SKIP: TestDSN")):
			t.Errorf("CI unset: want TestDSN skipped (err %v):\n%s", err, out)
		}
	}
}

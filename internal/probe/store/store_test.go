package store_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/probe/database"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/store"
	"github.com/authtui/authtui/internal/probe/textsafe"
	"github.com/authtui/authtui/internal/redistest"
	"github.com/authtui/authtui/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const password = "correct horse battery staple"

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// client is the test's own go-redis client: the test may write (to set a
// scene); the package under test never does.
func client(t *testing.T, srv *redistest.Server) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, DialTimeout: 2 * time.Second, ReadTimeout: 5 * time.Second})
	t.Cleanup(func() { c.Close() })
	return c
}

func open(t *testing.T, url string) *store.Store {
	t.Helper()
	s, err := store.Open(ctxT(t), store.Options{URL: url, Timeout: time.Second})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// dbRow asks the real database, through the database probe, what it holds
// for token: the Row a caller hands to Combine.
func dbRow(t *testing.T, dsn, token string) store.Row {
	t.Helper()
	ctx := ctxT(t)
	db, err := database.Open(ctx, database.Options{URL: dsn})
	if err != nil {
		t.Fatalf("database.Open: %v", err)
	}
	defer db.Close()
	schema, _, err := db.DetectSchema(ctx)
	if err != nil {
		t.Fatalf("DetectSchema: %v", err)
	}
	if schema == nil || schema.Session == nil {
		return store.Row{}
	}
	tl, _, err := db.LookupToken(ctx, schema, token, "test")
	if err != nil {
		t.Fatalf("LookupToken: %v", err)
	}
	return store.Row{Checked: true, Found: tl.Found, ExpiresAt: tl.ExpiresAt, UserID: tl.UserID}
}

// getSession asks the real server about the session cookie: the status
// and whether the body is a session.
func getSession(t *testing.T, srv *batest.Server, sess batest.Session) (int, bool) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctxT(t), http.MethodGet, srv.URL+"/api/auth/get-session", nil)
	req.Header.Set("Cookie", sess.CookieHeader)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("get-session: %v", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	var v struct {
		Session *struct {
			ID string `json:"id"`
		} `json:"session"`
	}
	_ = json.Unmarshal(body, &v)
	return res.StatusCode, v.Session != nil && v.Session.ID != ""
}

func randomToken(t *testing.T) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func ids(l finding.List) []finding.ID {
	var out []finding.ID
	for _, f := range l {
		out = append(out, f.ID)
	}
	return out
}

func wantOnly(t *testing.T, l finding.List, want ...finding.ID) {
	t.Helper()
	got := ids(l)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("findings %v, want %v:\n%v", got, want, l)
	}
}

// noSecret fails when text holds a full token (or another secret).
func noSecret(t *testing.T, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Fatalf("output holds a secret (%d chars): %s", len(s), strings.ReplaceAll(text, s, "[SECRET]"))
		}
	}
}

// TestAgainstBetterAuth runs the whole story on a real BetterAuth with a
// real Redis as secondaryStorage and a real PostgreSQL, with and without
// session.storeSessionInDatabase.
func TestAgainstBetterAuth(t *testing.T) {
	for _, inDB := range []bool{false, true} {
		t.Run(fmt.Sprintf("storeSessionInDatabase=%v", inDB), func(t *testing.T) {
			rsrv := redistest.Start(t)
			dsn := pgtest.DSN(t)
			env := []string{"FIXTURE_REDIS_URL=" + rsrv.URL}
			if inDB {
				env = append(env, "FIXTURE_STORE_SESSION_IN_DB=1")
			}
			srv := batest.Start(t, batest.Options{DatabaseURL: dsn, ExtraEnv: env})
			user := batest.SignUp(t, srv.URL, "ada@example.com", password)
			sess := batest.SignIn(t, srv.URL, "ada@example.com", password)
			rdb := client(t, rsrv)
			st := open(t, rsrv.URL)
			ctx := ctxT(t)

			// Found, with what BetterAuth stored.
			got, err := st.Lookup(ctx, sess.Token)
			if err != nil {
				t.Fatalf("Lookup: %v", err)
			}
			if !got.Found || got.Email != "ada@example.com" || got.UserID != user.ID || got.SessionID == "" || !got.InActiveList || got.Revoked {
				t.Fatalf("Lookup = %+v", got)
			}
			left := time.Until(got.ExpiresAt)
			if left < 6*24*time.Hour || left > 7*24*time.Hour+time.Minute {
				t.Fatalf("expires in %s, want about 7 days", left)
			}
			if d := left - got.TTL; got.NoTTL || d < -2*time.Second || d > 5*time.Second {
				t.Fatalf("TTL %s, session expires in %s", got.TTL, left)
			}
			if got.TokenPrefix == "" || strings.Contains(got.TokenPrefix, sess.Token) {
				t.Fatalf("token prefix %q", got.TokenPrefix)
			}

			row := dbRow(t, dsn, sess.Token)
			if inDB {
				if !row.Checked || !row.Found {
					t.Fatalf("row %+v: storeSessionInDatabase writes the row", row)
				}
				wantOnly(t, store.Combine(&got, nil, row)) // both agree: nothing to say
			} else {
				if row.Found {
					t.Fatalf("row %+v: without storeSessionInDatabase there is none", row)
				}
				fs := store.Combine(&got, nil, row)
				if row.Checked {
					wantOnly(t, fs, finding.StoreOnly)
				} else {
					wantOnly(t, fs) // no session table at all
				}
				// The migrations created no session table, users exist, and no
				// store was given: the sessions are elsewhere.
				if f := store.Elsewhere(row.Checked, 1, false); f == nil || f.ID != finding.SessionsElsewhere {
					t.Fatalf("Elsewhere = %v", f)
				}
				if f := store.Elsewhere(row.Checked, 1, true); f != nil {
					t.Fatalf("Elsewhere with a store = %v", f)
				}
			}

			// Recent lists the signed-in sessions, newest first (sign-up
			// signed in too).
			sess2 := batest.SignIn(t, srv.URL, "ada@example.com", password)
			recent, err := st.Recent(ctx, 10)
			if err != nil {
				t.Fatalf("Recent: %v", err)
			}
			if len(recent) != 3 || recent[0].TokenPrefix != textsafe.TokenPrefix(sess2.Token) ||
				recent[1].SessionID != got.SessionID || !recent[0].InActiveList || !recent[1].InActiveList {
				t.Fatalf("Recent = %+v", recent)
			}
			if one, err := st.Recent(ctx, 1); err != nil || len(one) != 1 || one[0].SessionID != recent[0].SessionID {
				t.Fatalf("Recent(1) = %+v, %v", one, err)
			}

			// A key whose TTL was cut short: the session ends early.
			if err := rdb.Expire(ctx, sess2.Token, 30*time.Second).Err(); err != nil {
				t.Fatal(err)
			}
			short, err := st.Lookup(ctx, sess2.Token)
			if err != nil {
				t.Fatal(err)
			}
			wantOnly(t, store.Combine(&short, nil, dbRow(t, dsn, sess2.Token)), finding.StoreTTLShort)

			// The store loses the key, the row (if any) stays.
			if err := rdb.Del(ctx, sess.Token).Err(); err != nil {
				t.Fatal(err)
			}
			lost, err := st.Lookup(ctx, sess.Token)
			if err != nil || lost.Found || lost.Unreadable != "" {
				t.Fatalf("Lookup after DEL = %+v, %v", lost, err)
			}
			row = dbRow(t, dsn, sess.Token)
			fs := store.Combine(&lost, nil, row)
			wantOnly(t, fs, finding.StoreSessionMissing)
			if inDB && !strings.Contains(fs[0].Message, "lost") {
				t.Fatalf("message %q does not say the store lost the key", fs[0].Message)
			}
			noSecret(t, fmt.Sprint(fs), sess.Token)
			// What the real server makes of it: the notes say it falls back to
			// the row only with storeSessionInDatabase.
			status, ok := getSession(t, srv, sess)
			if status != http.StatusOK || ok != inDB {
				t.Fatalf("get-session after DEL: %d session=%v, want 200 session=%v", status, ok, inDB)
			}
			if inDB {
				if n, _ := rdb.Exists(ctx, sess.Token).Result(); n != 0 {
					t.Logf("the fallback wrote the key back")
				}
			}

			// A token that is nowhere.
			stray := randomToken(t)
			nowhere, err := st.Lookup(ctx, stray)
			if err != nil || nowhere.Found {
				t.Fatalf("Lookup(stray) = %+v, %v", nowhere, err)
			}
			wantOnly(t, store.Combine(&nowhere, nil, dbRow(t, dsn, stray)), finding.StoreSessionMissing)

			// The store goes away: Lookup fails fast, Combine says unreachable,
			// and the server answers 500 even with the row in the database.
			rsrv.Stop()
			begin := time.Now()
			_, err = st.Lookup(ctx, sess2.Token)
			if elapsed := time.Since(begin); err == nil || elapsed > 3*time.Second {
				t.Fatalf("Lookup with the store stopped: %v after %s", err, elapsed)
			}
			var se *store.Error
			if !errors.As(err, &se) || se.Class != "refused" {
				t.Fatalf("error %#v", err)
			}
			row2 := dbRow(t, dsn, sess2.Token)
			fs = store.Combine(nil, err, row2)
			wantOnly(t, fs, finding.StoreUnreachable)
			if inDB && !strings.Contains(fs[0].Message, "does not fall back") {
				t.Fatalf("message %q", fs[0].Message)
			}
			if status, ok := getSession(t, srv, sess2); status != http.StatusInternalServerError || ok {
				t.Fatalf("get-session with the store down: %d session=%v, want 500", status, ok)
			}
			if _, err := st.Recent(ctx, 5); err == nil {
				t.Fatal("Recent with the store stopped succeeded")
			}
			if status, code, _ := batest.TrySignIn(t, srv.URL, "", "ada@example.com", password); status != http.StatusInternalServerError {
				t.Fatalf("sign-in with the store down: %d %s, want 500", status, code)
			}
		})
	}
}

// TestRevokedAndDisagreeing sets the two scenes the server reaches only
// through its own flows: a revoke-all marker that is newer than the
// session, and a database row changed behind BetterAuth's back.
func TestRevokedAndDisagreeing(t *testing.T) {
	rsrv := redistest.Start(t)
	dsn := pgtest.DSN(t)
	srv := batest.Start(t, batest.Options{DatabaseURL: dsn, ExtraEnv: []string{
		"FIXTURE_REDIS_URL=" + rsrv.URL, "FIXTURE_STORE_SESSION_IN_DB=1"}})
	user := batest.SignUp(t, srv.URL, "grace@example.com", password)
	sess := batest.SignIn(t, srv.URL, "grace@example.com", password)
	rdb := client(t, rsrv)
	st := open(t, rsrv.URL)
	ctx := ctxT(t)

	// The row expires a day earlier than the store says.
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `UPDATE "session" SET "expiresAt" = "expiresAt" - interval '1 day' WHERE token = $1`, sess.Token); err != nil {
		t.Fatal(err)
	}
	got, err := st.Lookup(ctx, sess.Token)
	if err != nil || !got.Found {
		t.Fatalf("Lookup = %+v, %v", got, err)
	}
	fs := store.Combine(&got, nil, dbRow(t, dsn, sess.Token))
	wantOnly(t, fs, finding.StoreDBDisagree)
	if !strings.Contains(fs[0].Message, "expires") {
		t.Fatalf("message %q", fs[0].Message)
	}
	// get-session answers from the store, as the message says.
	if status, ok := getSession(t, srv, sess); status != http.StatusOK || !ok {
		t.Fatalf("get-session: %d %v", status, ok)
	}

	// revoke-all leaves a marker newer than the session: BetterAuth answers null.
	marker := strconv.FormatInt(time.Now().Add(time.Second).UnixMilli(), 10)
	if err := rdb.Set(ctx, "revoked-sessions-before-"+user.ID, marker, time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	got, err = st.Lookup(ctx, sess.Token)
	if err != nil || !got.Found || !got.Revoked {
		t.Fatalf("Lookup = %+v, %v", got, err)
	}
	row := dbRow(t, dsn, sess.Token)
	row.ExpiresAt = got.ExpiresAt // only the revocation this time
	wantOnly(t, store.Combine(&got, nil, row), finding.StoreSessionRevoked)
	if status, ok := getSession(t, srv, sess); status != http.StatusOK || ok {
		t.Fatalf("get-session of a revoked session: %d session=%v, want 200 null", status, ok)
	}
}

// TestRecentBounded: a store full of other keys costs a bounded number of
// commands, however many keys it holds.
func TestRecentBounded(t *testing.T) {
	rsrv := redistest.Start(t)
	rdb := client(t, rsrv)
	ctx := ctxT(t)
	const unrelated, lookalikes = 100_000, 2_000
	for start := 0; start < unrelated; start += 10_000 {
		if _, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := start; i < start+10_000; i++ {
				p.Set(ctx, "cache:item:"+strconv.Itoa(i), "x", 0)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	st := open(t, rsrv.URL)
	recent := func(what string) map[string]int {
		t.Helper()
		if err := rdb.ConfigResetStat(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		begin := time.Now()
		got, err := st.Recent(ctx, 50)
		elapsed := time.Since(begin)
		if err != nil || len(got) != 0 {
			t.Fatalf("%s: Recent = %d sessions, %v", what, len(got), err)
		}
		stats := commandStats(t, rdb)
		t.Logf("%s: Recent took %s, sent %v", what, elapsed, stats)
		if stats["scan"] > 50 || stats["getrange"] > 300 || stats["pttl"] > 300 {
			t.Fatalf("%s: unbounded work: %v", what, stats)
		}
		if elapsed > 5*time.Second {
			t.Fatalf("%s: Recent took %s", what, elapsed)
		}
		return stats
	}
	// The scan stops before it has seen every key.
	if stats := recent(fmt.Sprintf("%d unrelated keys", unrelated)); stats["scan"] < 50 || stats["getrange"] != 0 {
		t.Fatalf("want a capped scan and no reads: %v", stats)
	}

	// Keys shaped like tokens whose values are not sessions: each one
	// costs a read, so they are what the read cap is for.
	if _, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := 0; i < lookalikes; i++ {
			p.Set(ctx, fmt.Sprintf("%032d", i), "not a session", 0)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if stats := recent(fmt.Sprintf("and %d token-shaped keys", lookalikes)); stats["getrange"] != 300 {
		t.Fatalf("want the read cap reached: %v", stats)
	}
}

// commandStats reads INFO commandstats: calls per command.
func commandStats(t *testing.T, rdb *redis.Client) map[string]int {
	t.Helper()
	info, err := rdb.Info(ctxT(t), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		for _, kv := range strings.Split(rest, ",") {
			if v, ok := strings.CutPrefix(kv, "calls="); ok {
				out[strings.TrimPrefix(name, "cmdstat_")], _ = strconv.Atoi(v)
			}
		}
	}
	return out
}

// TestHostileValues: whatever a key holds, Lookup and Recent answer
// without panicking, and say the value is not a session.
func TestHostileValues(t *testing.T) {
	rsrv := redistest.Start(t)
	rdb := client(t, rsrv)
	ctx := ctxT(t)
	huge := `{"session":{"expiresAt":"2099-01-01T00:00:00.000Z","pad":"` + strings.Repeat("x", 2<<20) + `"},"user":{}}`
	values := map[string]string{
		"not json":       "hello",
		"empty":          "",
		"null":           "null",
		"array":          `[1,2,3]`,
		"no session":     `{"user":{"id":"u"}}`,
		"no user":        `{"session":{"id":"s","userId":"u","expiresAt":"2099-01-01T00:00:00.000Z"}}`,
		"bad expiry":     `{"session":{"id":"s","expiresAt":{"a":1}},"user":{}}`,
		"number expiry":  `{"session":{"id":"s","expiresAt":1e300},"user":{}}`,
		"huge":           huge,
		"deep":           strings.Repeat("[", 100000) + strings.Repeat("]", 100000),
		"control chars":  "{\"session\":{\"id\":\"\\u001b[31m\",\"expiresAt\":\"2099-01-01T00:00:00Z\"},\"user\":{\"email\":\"\\u001b]8;;x\\u0007\"}}",
		"invalid utf8":   "{\"session\":\xff}",
		"truncated json": `{"session":{"id":"s","expiresAt":"2099-01-01T00:00:00.000Z"},"user":{"id":`,
	}
	keys := map[string]string{}
	i := 0
	for name, v := range values {
		k := fmt.Sprintf("H%031d", i)
		i++
		keys[name] = k
		if err := rdb.Set(ctx, k, v, time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// Other types under token-shaped keys.
	for name, set := range map[string]func(k string) error{
		"hash": func(k string) error { return rdb.HSet(ctx, k, "a", "b").Err() },
		"list": func(k string) error { return rdb.RPush(ctx, k, "a").Err() },
		"set":  func(k string) error { return rdb.SAdd(ctx, k, "a").Err() },
	} {
		k := fmt.Sprintf("T%031d", i)
		i++
		keys[name] = k
		if err := set(k); err != nil {
			t.Fatal(err)
		}
	}
	st := open(t, rsrv.URL)
	for name, k := range keys {
		got, err := st.Lookup(ctx, k)
		if err != nil {
			t.Errorf("%s: Lookup error %v", name, err)
			continue
		}
		wantFound := name == "control chars" // the only one BetterAuth could read
		if got.Found != wantFound {
			t.Errorf("%s: Found=%v (%+v)", name, got.Found, got)
		}
		if !got.Found && got.Unreadable == "" {
			t.Errorf("%s: no reason given", name)
		}
		for _, s := range []string{got.SessionID, got.Email, got.Unreadable} {
			if strings.ContainsAny(s, "\x1b\x07") {
				t.Errorf("%s: raw control character in %q", name, s)
			}
		}
		// Combine reads it without panicking either.
		_ = store.Combine(&got, nil, store.Row{Checked: true})
	}
	if _, err := st.Recent(ctx, 100); err != nil {
		t.Fatalf("Recent: %v", err)
	}
}

// TestNeverWrites runs every exported function against a store and checks
// with the server's own bookkeeping that nothing but reads reached it:
// every command counted is one Redis flags neither write nor admin, and a
// user whose ACL allows only reads can do all of it.
func TestNeverWrites(t *testing.T) {
	rsrv := redistest.Start(t)
	srv := batest.Start(t, batest.Options{ExtraEnv: []string{"FIXTURE_REDIS_URL=" + rsrv.URL}})
	batest.SignUp(t, srv.URL, "lin@example.com", password)
	sess := batest.SignIn(t, srv.URL, "lin@example.com", password)
	rdb := client(t, rsrv)
	ctx := ctxT(t)
	if err := rdb.Do(ctx, "ACL", "SETUSER", "ro", "on", "nopass", "~*", "-@all", "+@read", "+ping", "+info", "+scan", "+type", "+ttl", "+pttl", "+exists").Err(); err != nil {
		t.Fatal(err)
	}

	exercise := func(url string) {
		t.Helper()
		st, err := store.Open(ctx, store.Options{URL: url, Timeout: 2 * time.Second})
		if err != nil {
			t.Fatalf("Open(%s): %v", strings.SplitN(url, "@", 2)[0], err)
		}
		defer st.Close()
		if got, err := st.Lookup(ctx, sess.Token); err != nil || !got.Found || !got.InActiveList {
			t.Fatalf("Lookup = %+v, %v", got, err)
		}
		if _, err := st.Lookup(ctx, randomToken(t)); err != nil {
			t.Fatal(err)
		}
		if got, err := st.Recent(ctx, 10); err != nil || len(got) != 2 { // sign-up's and sign-in's
			t.Fatalf("Recent = %+v, %v", got, err)
		}
		_ = st.Target()
	}

	if err := rdb.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	exercise(rsrv.URL)
	exercise("redis://ro:anything@" + rsrv.Addr)
	stats := commandStats(t, rdb)
	delete(stats, "config|resetstat") // the test's own
	delete(stats, "info")             // the test's own commandStats
	if len(stats) == 0 {
		t.Fatal("no commands counted")
	}
	table, err := rdb.Command(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	for name := range stats {
		ci := table[name]
		if ci == nil {
			// A subcommand (client|setinfo, …): none is a read of sessions.
			t.Errorf("the package sent %s", name)
			continue
		}
		for _, flag := range ci.Flags {
			if flag == "write" || flag == "admin" {
				t.Errorf("the package sent %s, flagged %s", name, flag)
			}
		}
	}
	t.Logf("commands sent: %v", stats)
	// A user whose ACL does not cover the keys: the refusal is an auth
	// error, and names no token.
	if err := rdb.Do(ctx, "ACL", "SETUSER", "cacheonly", "on", "nopass", "~cache:*", "-@all", "+@read", "+ping").Err(); err != nil {
		t.Fatal(err)
	}
	limited, err := store.Open(ctx, store.Options{URL: "redis://cacheonly:x@" + rsrv.Addr})
	if err != nil {
		t.Fatal(err)
	}
	defer limited.Close()
	_, err = limited.Lookup(ctx, sess.Token)
	var se *store.Error
	if !errors.As(err, &se) || se.Class != "auth" {
		t.Fatalf("Lookup as cacheonly: %v", err)
	}
	noSecret(t, err.Error()+fmt.Sprint(store.Combine(nil, err, store.Row{})), sess.Token)
	t.Logf("%v", err)

	// Session data untouched: the key and its list are still there.
	if n, err := rdb.Exists(ctx, sess.Token).Result(); err != nil || n != 1 {
		t.Fatalf("EXISTS = %d, %v", n, err)
	}
}

// TestOpenErrors: each way of not reaching a store is classified, fast,
// and never shows the password.
func TestOpenErrors(t *testing.T) {
	const secret = "s3cr3t-PaSsWoRd-9f8e7d"
	ctx := ctxT(t)
	rsrv := redistest.Start(t)
	rdb := client(t, rsrv)
	if err := rdb.ConfigSet(ctx, "requirepass", "the-right-one").Err(); err != nil {
		t.Fatal(err)
	}
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	silent := testenv.SilentListener(t)
	for _, c := range []struct {
		name, url, class string
	}{
		{"refused", fmt.Sprintf("redis://:%s@127.0.0.1:%d", secret, port), "refused"},
		{"timeout", fmt.Sprintf("redis://user:%s@%s", secret, silent), "timeout"},
		{"wrong password", fmt.Sprintf("redis://:%s@%s", secret, rsrv.Addr), "auth"},
		{"no password", "redis://" + rsrv.Addr, "auth"},
		{"bad URL", "redis://:" + secret + "@127.0.0.1:notaport\x7f", "config"},
		{"REST URL", "https://default:" + secret + "@example.upstash.io", "config"},
		{"scheme", "postgres://u:" + secret + "@127.0.0.1/db", "config"},
		{"bad db", "redis://:" + secret + "@127.0.0.1:6379/x" + secret, "config"},
		{"empty", "", "config"},
	} {
		t.Run(c.name, func(t *testing.T) {
			begin := time.Now()
			st, err := store.Open(ctx, store.Options{URL: c.url, Timeout: 500 * time.Millisecond})
			elapsed := time.Since(begin)
			if err == nil {
				st.Close()
				t.Fatal("Open succeeded")
			}
			var se *store.Error
			if !errors.As(err, &se) || se.Class != c.class {
				t.Fatalf("error %v, want class %s", err, c.class)
			}
			if elapsed > 2*time.Second {
				t.Fatalf("took %s", elapsed)
			}
			noSecret(t, err.Error(), secret)
			noSecret(t, fmt.Sprint(store.Combine(nil, err, store.Row{})), secret)
			t.Logf("%v", err)
		})
	}
	// The right password opens it.
	if st, err := store.Open(ctx, store.Options{URL: "redis://:the-right-one@" + rsrv.Addr}); err != nil {
		t.Fatalf("Open with the password: %v", err)
	} else {
		st.Close()
	}
}

// TestHungStore: a store that stops answering mid-test (SIGSTOP: the
// kernel still accepts, nothing replies) costs one Timeout per call.
func TestHungStore(t *testing.T) {
	rsrv := redistest.Start(t)
	st, err := store.Open(ctxT(t), store.Options{URL: rsrv.URL, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := syscall.Kill(rsrv.Pid(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(rsrv.Pid(), syscall.SIGCONT) })
	for name, call := range map[string]func() error{
		"Lookup": func() error { _, err := st.Lookup(context.Background(), randomToken(t)); return err },
		"Recent": func() error { _, err := st.Recent(context.Background(), 10); return err },
	} {
		begin := time.Now()
		err := call()
		elapsed := time.Since(begin)
		var se *store.Error
		if !errors.As(err, &se) || se.Class != "timeout" {
			t.Errorf("%s: error %v, want a timeout", name, err)
		}
		if elapsed > 1500*time.Millisecond {
			t.Errorf("%s: took %s with a 300ms timeout", name, elapsed)
		}
		if fs := store.Combine(nil, err, store.Row{}); !fs.Has(finding.StoreUnreachable) {
			t.Errorf("%s: Combine = %v", name, fs)
		}
	}
	// The caller's own deadline wins when it is sooner.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	begin := time.Now()
	if _, err := st.Lookup(ctx, randomToken(t)); err == nil || time.Since(begin) > 250*time.Millisecond {
		t.Errorf("Lookup under a 50ms context: %v after %s", err, time.Since(begin))
	}
}

func TestURLFromSources(t *testing.T) {
	for _, c := range []struct {
		vars              map[string]string
		url, from, unsupp string
	}{
		{map[string]string{}, "", "", ""},
		{map[string]string{"REDIS_URL": " redis://h:6379 ", "KV_URL": "rediss://k:6379"}, "redis://h:6379", "REDIS_URL", ""},
		{map[string]string{"KV_URL": "rediss://default:pw@k.upstash.io:6379", "UPSTASH_REDIS_URL": "rediss://u:6379"}, "rediss://default:pw@k.upstash.io:6379", "KV_URL", ""},
		{map[string]string{"REDIS_TLS_URL": "rediss://t:6380", "UPSTASH_REDIS_URL": "rediss://u:6379"}, "rediss://t:6380", "REDIS_TLS_URL", ""},
		{map[string]string{"UPSTASH_REDIS_URL": "rediss://u:6379", "UPSTASH_REDIS_REST_URL": "https://u.upstash.io"}, "rediss://u:6379", "UPSTASH_REDIS_URL", ""},
		{map[string]string{"UPSTASH_REDIS_REST_URL": "https://u.upstash.io", "UPSTASH_REDIS_REST_TOKEN": "tok"}, "", "", "UPSTASH_REDIS_REST_URL"},
		{map[string]string{"KV_REST_API_URL": "https://u.upstash.io"}, "", "", "KV_REST_API_URL"},
		{map[string]string{"REDIS_URL": "https://u.upstash.io"}, "", "", "REDIS_URL"},
		{map[string]string{"REDIS_URL": "", "KV_URL": "redis://k"}, "redis://k", "KV_URL", ""},
	} {
		url, from, unsupp := store.URLFromSources(c.vars)
		if url != c.url || from != c.from || unsupp != c.unsupp {
			t.Errorf("%v: got %q %q %q, want %q %q %q", c.vars, url, from, unsupp, c.url, c.from, c.unsupp)
		}
	}
	f := store.UnsupportedFinding("UPSTASH_REDIS_REST_URL", ".env")
	if f.ID != finding.StoreUnsupported || f.Severity != finding.Info || !strings.Contains(f.Message, "rediss://") {
		t.Fatalf("%+v", f)
	}
}

func TestElsewhere(t *testing.T) {
	for _, c := range []struct {
		table     bool
		users     int
		store     bool
		elsewhere bool
	}{
		{false, 3, false, true},
		{true, 3, false, false},
		{false, 0, false, false},
		{false, 3, true, false},
	} {
		f := store.Elsewhere(c.table, c.users, c.store)
		if (f != nil) != c.elsewhere || f != nil && (f.ID != finding.SessionsElsewhere || !strings.Contains(f.Message, "--redis-url")) {
			t.Errorf("%+v: %v", c, f)
		}
	}
}

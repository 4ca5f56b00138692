package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/redistest"
)

// A server that keeps sessions in Redis (secondaryStorage) and not in its
// database: its migrations created no session table. check tells "in the
// store, not in the database" (healthy) from "nowhere" (authtui reads
// another store than the server writes to), says where to look without a
// store, and names the store when it is down.
func TestCheckRedisBackedServer(t *testing.T) {
	dsn := pgtest.DSN(t)
	rds := redistest.Start(t)
	other := redistest.Start(t)
	srv := batest.Start(t, batest.Options{DatabaseURL: dsn, Bearer: true, ExtraEnv: []string{"FIXTURE_REDIS_URL=" + rds.URL}})
	batest.SignUp(t, srv.URL, "test@example.com", testPass)
	env := writeEnvFile(t, "auth.env", "BETTER_AUTH_SECRET", batest.FixtureSecret, "BETTER_AUTH_URL", srv.URL, "DATABASE_URL", dsn)
	check := func(args ...string) (result, string, []string) {
		r := runEnv(t, map[string]string{"TEST_PW": testPass}, append([]string{"check", "--json", "--timeout", "3s", "--env-file", env, "--keep-session"}, append(creds(), args...)...)...)
		var rep struct {
			Verdict  struct{ ID string } `json:"verdict"`
			Findings []struct{ ID string }
		}
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("check --json: %v\n%s%s", err, r.stdout, r.stderr)
		}
		var ids []string
		for _, f := range rep.Findings {
			ids = append(ids, f.ID)
		}
		return r, rep.Verdict.ID, ids
	}
	has := func(ids []string, id string) bool {
		for _, x := range ids {
			if x == id {
				return true
			}
		}
		return false
	}

	r, verdict, ids := check("--redis-url", rds.URL)
	if r.code != exitOK || !has(ids, "store-only") || has(ids, "db-schema-missing") {
		t.Errorf("in the store, not in the database: exit %d, verdict %q, findings %v", r.code, verdict, ids)
	}
	r, verdict, ids = check("--redis-url", other.URL)
	if r.code != exitFound || verdict != "store-session-missing" {
		t.Errorf("nowhere authtui looks: exit %d, verdict %q, findings %v", r.code, verdict, ids)
	}
	_, _, ids = check()
	if !has(ids, "sessions-elsewhere") || has(ids, "db-schema-missing") {
		t.Errorf("no store given: findings %v", ids)
	}
	text := runEnv(t, map[string]string{"TEST_PW": testPass}, append([]string{"check", "--timeout", "3s", "--env-file", env, "--keep-session", "--redis-url", rds.URL}, creds()...)...)
	t.Logf("check, the server's own store:\n%s", text.stdout)
	text = runEnv(t, map[string]string{"TEST_PW": testPass}, append([]string{"check", "--timeout", "3s", "--env-file", env, "--keep-session", "--redis-url", other.URL}, creds()...)...)
	t.Logf("check, another store:\n%s", text.stdout)
	for _, out := range []string{text.stdout, r.stdout} {
		if strings.Contains(out, testPass) || strings.Contains(out, batest.FixtureSecret) {
			t.Fatal("a secret or the password in the output")
		}
	}

	// The sessions list reads the store too, and says where each lives.
	sess := runEnv(t, nil, "sessions", "--env-file", env, "--redis-url", rds.URL)
	if sess.code != exitOK || !strings.Contains(sess.stdout, "STORED IN") || !strings.Contains(sess.stdout, "test@example.com") || !strings.Contains(sess.stdout, "store") {
		t.Errorf("sessions with a store: exit %d\n%s%s", sess.code, sess.stdout, sess.stderr)
	}
	t.Logf("authtui sessions --redis-url:\n%s", sess.stdout)

	// A pasted cookie is looked up in the store too.
	sess2 := batest.SignIn(t, srv.URL, "test@example.com", testPass)
	if r := run(t, "", "decode", "--env-file", env, "--redis-url", rds.URL, sess2.CookieHeader); r.code != exitOK || strings.Contains(r.stdout, "store-session-missing") {
		t.Errorf("decode, the server's store: exit %d\n%s", r.code, r.stdout)
	}
	if r := run(t, "", "decode", "--env-file", env, "--redis-url", other.URL, sess2.CookieHeader); r.code != exitFound || !strings.Contains(r.stdout, "store-session-missing") {
		t.Errorf("decode, another store: exit %d\n%s", r.code, r.stdout)
	}

	rds.Stop()
	r, verdict, ids = check("--redis-url", rds.URL)
	if r.code != exitFound || verdict != "store-unreachable" {
		t.Errorf("store down: exit %d, verdict %q, findings %v", r.code, verdict, ids)
	}
}

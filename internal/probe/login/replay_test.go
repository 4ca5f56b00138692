package login

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/probe/database"
	"github.com/authtui/authtui/internal/probe/finding"
)

// openSchema opens dsn read-only, as the console does, and detects the
// BetterAuth schema.
func openSchema(t *testing.T, dsn string) (*database.DB, *database.Schema) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := database.Open(ctx, database.Options{URL: dsn, ConnectTimeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(db.Close)
	schema, _, err := db.DetectSchema(ctx)
	if err != nil || schema == nil || schema.Session == nil {
		t.Fatalf("schema: %v", err)
	}
	return db, schema
}

// sessionTokens reads every session token the server stored: whichever
// one the replay picks, none may show up in full.
func sessionTokens(t *testing.T, dsn string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT token FROM session`)
	if err != nil {
		t.Fatal(err)
	}
	toks, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(toks) == 0 {
		t.Fatalf("session tokens: %d, %v", len(toks), err)
	}
	return toks
}

// runTexts is every string a run shows.
func runTexts(res *Result) []string {
	var out []string
	for _, e := range res.Events {
		out = append(out, e.Title, e.Detail, e.Redirect)
		for _, f := range e.Findings {
			out = append(out, f.Message, f.Source)
		}
	}
	for _, o := range res.Outcomes {
		out = append(out, o.Seen)
	}
	return append(append(out, res.Diagnosis.Verdict), res.Diagnosis.Evidence...)
}

// TestReplayTriesTheAPI: a real server on PostgreSQL, a real session
// replayed from its database, and the API asked with it.
func TestReplayTriesTheAPI(t *testing.T) {
	dsn := pgtest.DSN(t)
	srv := batest.Start(t, batest.Options{Secret: secretA, DatabaseURL: dsn, Bearer: true})
	const email = "replay@example.com"
	batest.SignUp(t, srv.URL, email, password)
	sess := batest.SignIn(t, srv.URL, email, password)
	db, schema := openSchema(t, dsn)
	tokens := sessionTokens(t, dsn)
	nullAPI := apiServer(t, serve(200, http.Header{"Content-Type": {jsonType}}, "null"))

	replay := func(t *testing.T, apiURL string) *Result {
		t.Helper()
		res := flow(t, Options{BaseURL: srv.URL, ReplaySession: "latest", DB: db, Schema: schema, Candidates: candidatesA(t), APIURL: apiURL, Timeout: 5 * time.Second})
		auditInvariants(t, res, password, secretA)
		for _, txt := range runTexts(res) {
			assertNoCredential(t, txt, sess, tokens...)
		}
		if res.Issued != (IssuedCookie{}) {
			t.Errorf("a replay issues nothing, Issued = %+v", res.Issued)
		}
		if res.Outcomes[StepReplayProbe].Result != Accepted {
			t.Fatalf("the replay itself: %+v; steps %v", res.Outcomes[StepReplayProbe], steps(res))
		}
		if got := strings.Join(res.ServerSecret, ","); got != "auth.env" {
			t.Errorf("server secret %q", got)
		}
		// A replayed session is a real user's: never signed out.
		if e := lastEnd(t, res, StepSignOut); e.Status != StatusSkip || !strings.Contains(e.Detail, "real user's") || e.HTTPStatus != 0 {
			t.Errorf("sign-out step of a replay: %s %d %q", e.Status, e.HTTPStatus, e.Detail)
		}
		if after := sessionTokens(t, dsn); strings.Join(slices.Sorted(slices.Values(after)), ",") != strings.Join(slices.Sorted(slices.Values(tokens)), ",") {
			t.Errorf("the replay changed the session rows: %d before, %d after", len(tokens), len(after))
		}
		return res
	}

	t.Run("the server's own API accepts", func(t *testing.T) {
		res := replay(t, srv.URL+"/api/me")
		expectOutcomes(t, res, map[string]Acceptance{StepAPICookie: Accepted, StepGetBearer: Accepted, StepAPIBearer: Accepted})
		expect(t, res, map[finding.ID][]string{finding.ServerSecretIdentified: nil}, finding.APINullSession, finding.APIRejectsSession)
		for _, step := range []string{StepAPICookie, StepAPIBearer} {
			if e := lastEnd(t, res, step); e.Status != StatusOK || e.HTTPStatus != 200 || !strings.Contains(e.Detail, "the API accepts the") {
				t.Errorf("%s: %s %d %q", step, e.Status, e.HTTPStatus, e.Detail)
			}
		}
		if res.Failed() || !res.Diagnosis.Healthy {
			t.Errorf("Failed %v, diagnosis %+v, findings %s", res.Failed(), res.Diagnosis, ids(res.Findings))
		}
	})
	t.Run("an API that answers 200 null", func(t *testing.T) {
		res := replay(t, nullAPI)
		expectOutcomes(t, res, map[string]Acceptance{StepAPICookie: Rejected, StepGetBearer: Accepted, StepAPIBearer: Rejected})
		expect(t, res, map[finding.ID][]string{
			finding.APINullSession:    {"answered 200 null for the cookie", "answered 200 null for the bearer token", "get-session accepted the same cookie"},
			finding.APIRejectsSession: nil,
		})
		if o := res.Outcomes[StepAPICookie]; o.HTTPStatus != 200 || o.Seen != "200 null" || o.Via != viaCookie {
			t.Errorf("api-cookie outcome %+v", o)
		}
		if e := lastEnd(t, res, StepAPICookie); e.Status != StatusFail {
			t.Errorf("api-cookie ended %s: a 200 null is not acceptance", e.Status)
		}
		if !res.Failed() || res.Diagnosis.Healthy {
			t.Errorf("Failed %v, healthy %v", res.Failed(), res.Diagnosis.Healthy)
		}
	})
	t.Run("no API URL", func(t *testing.T) {
		res := replay(t, "")
		e := lastEnd(t, res, StepAPICookie)
		if e.Status != StatusSkip || !strings.Contains(e.Detail, "not tried") || !strings.Contains(e.Detail, "--api-url") {
			t.Errorf("api step %s %q, want a skip saying the API was not tried", e.Status, e.Detail)
		}
		expectOutcomes(t, res, map[string]Acceptance{StepAPICookie: NotRun, StepAPIBearer: NotRun})
		for _, e := range res.Events {
			if e.Step == StepAPIBearer {
				t.Errorf("api-bearer ran without an API URL: %s", e.Status)
			}
		}
		if res.Failed() || !res.Diagnosis.Healthy {
			t.Errorf("Failed %v, diagnosis %+v", res.Failed(), res.Diagnosis)
		}
	})
}

// TestReplayWithoutBearerPlugin: BetterAuth's default configuration has
// no bearer plugin, so get-session answers null to the replayed token as
// a bearer token. That says the plugin is off, not that the session is
// rejected: the step is skipped and judges nothing.
func TestReplayWithoutBearerPlugin(t *testing.T) {
	dsn := pgtest.DSN(t)
	srv := batest.Start(t, batest.Options{Secret: secretA, DatabaseURL: dsn})
	const email = "nobearer@example.com"
	batest.SignUp(t, srv.URL, email, password)
	sess := batest.SignIn(t, srv.URL, email, password)
	db, schema := openSchema(t, dsn)
	tokens := sessionTokens(t, dsn)
	res := flow(t, Options{BaseURL: srv.URL, ReplaySession: "latest", DB: db, Schema: schema, Candidates: candidatesA(t), APIURL: srv.URL + "/api/me", Timeout: 5 * time.Second})
	auditInvariants(t, res, password, secretA)
	for _, txt := range runTexts(res) {
		assertNoCredential(t, txt, sess, tokens...)
	}
	expectOutcomes(t, res, map[string]Acceptance{StepReplayProbe: Accepted, StepAPICookie: Accepted, StepGetBearer: NotRun, StepAPIBearer: NotRun})
	if e := lastEnd(t, res, StepGetBearer); e.Status != StatusSkip || !strings.Contains(e.Detail, "bearer plugin is off") {
		t.Errorf("get-session-bearer %s %q", e.Status, e.Detail)
	}
	if res.Failed() || !res.Diagnosis.Healthy {
		t.Errorf("Failed %v, diagnosis %+v, findings %s", res.Failed(), res.Diagnosis, ids(res.Findings))
	}
}

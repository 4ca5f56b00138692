package check

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/login"
)

// The console runs the pipeline on its own connection, or without one
// when it is down: the login steps must say which, and the console's
// --keep-session reaches the flow.
func TestPipelineConsoleOptions(t *testing.T) {
	const password = "correct horse battery staple"
	srv := batest.Start(t, batest.Options{Secret: "authtui-fixture-secret-A-0123456789abcdef"})
	batest.SignUp(t, srv.URL, "pipeline@example.com", password)
	sources := []probe.Source{{Label: "auth.env", Vars: map[string]string{"BETTER_AUTH_SECRET": "authtui-fixture-secret-A-0123456789abcdef"}}}
	cfg := probe.Config{Sources: sources, BaseURL: probe.Setting{Value: srv.URL, From: "--base-url"}, Timeout: 5 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const why = "a database is configured (from auth.env) but the console is not connected to it (see the Database pane)"

	for _, keep := range []bool{false, true} {
		rep := Run(ctx, Options{Config: cfg, Email: "pipeline@example.com", Password: password, NoDatabase: true, NoDatabaseWhy: why, KeepSession: keep}, nil)
		got := map[string]login.Event{}
		for _, e := range rep.Steps {
			got[e.Step] = e
		}
		if e := got[login.StepDatabase]; e.Status != login.StatusSkip || e.Detail != why {
			t.Errorf("row lookup %s %q, want a skip saying %q", e.Status, e.Detail, why)
		}
		// Without a database the sign-out cannot be confirmed: it is sent
		// (and said so) unless KeepSession, and never ✓.
		want := "sign-out sent"
		if keep {
			want = "kept"
		}
		if e := got[login.StepSignOut]; e.Status != login.StatusSkip || !strings.Contains(e.Detail, want) {
			t.Errorf("KeepSession %v: sign-out %s %q, want a skip saying %q", keep, e.Status, e.Detail, want)
		}
		if !rep.Healthy {
			t.Errorf("not healthy: %+v", rep.Verdict)
		}
	}
}

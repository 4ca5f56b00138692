package login

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/authtui/authtui/internal/probe/database"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/textsafe"
)

// signOutAfterCancel bounds the sign-out of a run that was cancelled
// after sign-in: the user asked to stop, so it gets a short grace, not
// the full step timeout, yet enough not to leave the session behind.
const signOutAfterCancel = 5 * time.Second

const titleSignOut = "Sign out the test session"

// stepSignOut ends every run that signed in: a test sign-in creates a
// session of the test user that stays valid for days (7 by default) in
// the production table, so the flow signs it out as the BetterAuth client
// does (POST /sign-out with the issued cookie and the Origin), after
// every step that uses the session, also when one of them failed or the
// run was cancelled after sign-in. A replayed session is a real user's
// and is never signed out; --keep-session keeps the test session.
func (r *run) stepSignOut() {
	switch {
	case r.opts.ReplaySession != "":
		if r.token == "" {
			return // nothing was replayed
		}
		const title = "Sign out the replayed session"
		t := r.start(StepSignOut, title)
		r.end(StepSignOut, title, t, StatusSkip, nil, "not signed out: the replayed session is a real user's (--replay-session), and it is left as it was")
		return
	case !r.signedIn:
		return // no session was created: sign-in failed, or the run stopped before it
	}
	// Every request that presents the session must be over before it is
	// signed out: on a cancel, prefetched ones may still be on their way.
	r.drain()
	if r.ctx.Err() != nil {
		// Cancelled after sign-in: the session exists all the same.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), min(r.opts.Timeout, signOutAfterCancel))
		defer cancel()
		r.ctx = ctx
	}
	t := r.start(StepSignOut, titleSignOut)
	if r.opts.KeepSession {
		r.end(StepSignOut, titleSignOut, t, StatusSkip, nil, "kept (--keep-session): the test session stays valid"+r.until())
		return
	}
	if r.cookieHeader == "" && r.bearer == "" {
		r.end(StepSignOut, titleSignOut, t, StatusSkip, nil, "cannot sign out: sign-in handed out no cookie and no bearer token, so its session stays valid"+r.until())
		return
	}
	h := http.Header{"Origin": {r.opts.Origin}}
	if r.cookieHeader != "" {
		h.Set("Cookie", r.cookieHeader)
	}
	if r.bearer != "" {
		// The bearer plugin turns it into the session cookie, so the
		// sign-out also works when only the token came back.
		h.Set("Authorization", "Bearer "+r.bearer)
	}
	resp, err := do(r.ctx, r.client, r.opts.Timeout, http.MethodPost, r.url("/sign-out"), h, map[string]any{})
	if err != nil {
		f := r.signOutFailed("sign-out %s: %s", r.base.Host, err)
		r.end(StepSignOut, titleSignOut, t, StatusWarn, nil, f.Message, f)
		return
	}
	var ok struct {
		Success bool `json:"success"`
	}
	if resp.status != http.StatusOK || json.Unmarshal(resp.body, &ok) != nil || !ok.Success {
		seen := Describe(resp.status, resp.header, resp.body)
		f := r.signOutFailed("POST %s answered %s, not BetterAuth's 200 {\"success\":true}", r.url("/sign-out"), seen)
		r.end(StepSignOut, titleSignOut, t, StatusWarn, resp, f.Message, f)
		return
	}
	// BetterAuth answers success even when it did not recognise the
	// cookie (it deletes only a session whose signed cookie it verifies),
	// so the row, when it can be read, is the evidence.
	db, schema := r.opts.DB, r.opts.Schema
	if !r.rowRead || !r.row.Found || db == nil || schema == nil || schema.Session == nil || !schema.Session.Has(database.ColToken) {
		why := "no database to check that its row is gone"
		if r.rowRead {
			why = "its row was not in the database authtui reads, so that could not be checked"
		}
		// 200 {"success":true} alone is no evidence (see above): the step
		// says what was done, not that it worked.
		r.end(StepSignOut, titleSignOut, t, StatusSkip, resp, "sign-out sent; the server answered 200 {\"success\":true}, which BetterAuth also answers when it deleted nothing, and "+why+" (pass --database-url to confirm)")
		return
	}
	row, _, lerr := db.LookupToken(r.ctx, schema, r.token, StepSignOut)
	switch {
	case lerr != nil:
		f := r.signOutFailed("sign-out answered 200 {\"success\":true}, but the row could not be read again to confirm it is gone: %s", lerr.Error())
		r.end(StepSignOut, titleSignOut, t, StatusWarn, resp, f.Message, f)
	case row.Found:
		f := r.signOutFailed("sign-out answered 200 {\"success\":true}, yet the row of session %s is still in the database: the instance that took the sign-out did not verify the cookie (another secret) or deletes from another database", row.SessionID)
		r.end(StepSignOut, titleSignOut, t, StatusWarn, resp, f.Message, f)
	default:
		r.end(StepSignOut, titleSignOut, t, StatusOK, resp, fmt.Sprintf("signed out: the server confirmed and the row of session %s is gone", r.row.SessionID))
	}
}

// signOutFailed is login-sign-out-failed: what happened, and that the
// test session stays valid until it expires.
func (r *run) signOutFailed(format string, args ...any) finding.Finding {
	who := "the test user"
	if r.opts.Email != "" {
		who = r.opts.Email
	}
	f := finding.New(finding.LoginSignOutFailed, StepSignOut, format, args...)
	f.Message += fmt.Sprintf(". The test session of %s (token %s) stays valid%s: revoke it (the Sessions pane, x with --allow-writes) or let it expire.", who, textsafe.TokenPrefix(r.token), r.until())
	return f
}

// until says when the test session expires, when the row said.
func (r *run) until() string {
	if r.rowRead && r.row.Found && !r.row.ExpiresAt.IsZero() {
		return " until " + r.row.ExpiresAt.Local().Format(time.DateTime)
	}
	return " until it expires"
}

// drain waits for the requests started ahead of their steps that no step
// picked up (the run stopped early); each is bounded by the step timeout
// and ends at once when the run was cancelled.
func (r *run) drain() {
	for k, f := range r.ahead {
		<-f.done
		delete(r.ahead, k)
	}
	if f := r.dbAhead; f != nil {
		<-f.done
		r.dbAhead = nil
		if r.opts.DB == nil {
			r.opts.DB, r.opts.Schema = f.db, f.schema
		}
	}
}

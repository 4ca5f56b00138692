package report

import (
	"strconv"
	"time"

	"github.com/authtui/authtui/internal/probe/database"
	"github.com/authtui/authtui/internal/probe/textsafe"
)

// SessionsHead is the head of the sessions table.
var SessionsHead = []string{"CREATED", "EXPIRES", "STATUS", "USER", "TOKEN", "IP", "USER AGENT"}

// SessionsOptions is what the sessions report cannot know from the rows.
type SessionsOptions struct {
	// Next is the cursor of the next page, for --after; "" when the page
	// is the last (or the caller does not page).
	Next string
	// IndexHint is the CREATE INDEX suggestion. Pass it only when it
	// matters (db-sessions-index-missing was raised): on a small table
	// every page is cheap without it, and the hint is noise.
	IndexHint string
}

// Sessions is a page of sessions, newest first, as one block: how many
// are active, a row each, then where the next page starts and, when it
// matters, the index that would make pages cheap. now is the time the
// relative times are measured from.
func Sessions(sessions []database.Session, now time.Time, o SessionsOptions) Block {
	b := Block{Title: "Sessions"}
	if len(sessions) == 0 {
		b.Lines = []Line{L("", S("No sessions.", Dim))}
	} else {
		b.Meta = SessionsCount(sessions)
		t := &Table{Head: SessionsHead}
		stored := false
		for _, s := range sessions {
			stored = stored || s.Stored != ""
		}
		if stored {
			// Where each session lives: a store (secondaryStorage) was read too.
			t.Head = append(append([]string{}, SessionsHead...), "STORED IN")
		}
		for _, s := range sessions {
			row := SessionRow(s, now)
			if stored {
				row = append(row, P(Clip(s.Stored, 20)))
			}
			t.Rows = append(t.Rows, row)
		}
		b.Table = t
	}
	if o.Next != "" {
		// The cursor is copied into the next command as printed.
		b.After = append(b.After, L("", P("More: --after "+textsafe.Clean(o.Next))))
	}
	b.After = append(b.After, IndexHint(o.IndexHint)...)
	return b
}

// IndexHint is the missing-index hint as lines: why, then the statement
// on a line of its own, unwrapped, to copy. None for "".
func IndexHint(hint string) []Line {
	if hint == "" {
		return nil
	}
	return []Line{
		Prose("Hint: no index leads with the creation time, so every newest-first page sorts the whole table. Add one:", Dim),
		{Indent: 1, Spans: []Span{P(textsafe.Clean(hint))}},
	}
}

// SessionsCount says how many sessions there are and how many of them
// work: active, with their user still there.
func SessionsCount(sessions []database.Session) string {
	active := 0
	for _, s := range sessions {
		if s.Active && !s.UserMissing {
			active++
		}
	}
	return plural(len(sessions), "session") + ", " + strconv.Itoa(active) + " active"
}

// SessionRow is one session as the cells under SessionsHead.
func SessionRow(s database.Session, now time.Time) []Span {
	return []Span{
		P(Rel(s.CreatedAt, now)),
		P(Rel(s.ExpiresAt, now)),
		SessionStatus(s),
		SessionUser(s),
		P(Clip(s.TokenPrefix, 12)),
		P(Clip(s.IPAddress, 39)),
		P(Clip(s.UserAgent, 48)),
	}
}

// SessionStatus is whether the session works: a session whose user row
// is gone is answered null by BetterAuth, whatever its expiry says.
func SessionStatus(s database.Session) Span {
	switch {
	case s.UserMissing:
		return S("✗ no user", Bad)
	case s.Active:
		return S("✓ active", Good)
	}
	return S("expired", Dim)
}

// SessionMark is SessionStatus in one cell, for lists too narrow for the
// word: ✓ active, · expired, ✗ no user.
func SessionMark(s database.Session) Span {
	switch {
	case s.UserMissing:
		return S("✗", Bad)
	case s.Active:
		return S("✓", Good)
	}
	return S("·", Dim)
}

// SessionUser is whose session it is: the email, or the user id when the
// user row is gone (or there is no user table to join).
func SessionUser(s database.Session) Span {
	switch {
	case s.UserMissing:
		return S("(user missing: "+Clip(s.UserID, 36)+")", Bad)
	case s.Email == "":
		return S(Clip(s.UserID, 40), Dim)
	}
	return P(Clip(s.Email, 40))
}

package database

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/authtui/authtui/internal/probe/textsafe"

	"github.com/jackc/pgx/v5"

	"github.com/authtui/authtui/internal/probe/finding"
)

// DefaultPageSize is a screenful of sessions.
const DefaultPageSize = 50

// MaxPageSize bounds one page, whatever the caller asks for.
const MaxPageSize = 1000

// Session is one row of the session table joined with its user. Strings
// come from the database raw; renderers sanitise them.
type Session struct {
	ID          string    `json:"id"`
	UserID      string    `json:"user_id"`
	Email       string    `json:"email"`
	Name        string    `json:"name"`
	TokenPrefix string    `json:"token_prefix"`
	CreatedAt   time.Time `json:"created_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	IPAddress   string    `json:"ip_address"`
	UserAgent   string    `json:"user_agent"`
	Active      bool      `json:"active"`
	UserMissing bool      `json:"user_missing,omitempty"`
	// Stored says where the session was found when a session store is
	// read as well: "database", "store" or "database+store"; "" when only
	// the database was asked.
	Stored string `json:"stored,omitempty"`
}

// Cursor marks the last row of a page, for keyset pagination: the next
// page starts strictly after it in (created_at, id) descending order.
type Cursor struct {
	CreatedAt time.Time `json:"created_at"`
	ID        string    `json:"id"`
}

// SessionQuery selects a page of sessions, newest first.
type SessionQuery struct {
	UserEmail  string
	ActiveOnly bool
	Limit      int
	After      *Cursor
	// countRows adds the table's bounded row count to the page statement
	// (as a last column, evaluated once): db-sessions-index-missing needs
	// it, and it costs no round trip of its own.
	countRows bool
}

// SessionsPage is one page and the cursor for the next.
type SessionsPage struct {
	Sessions []Session `json:"sessions"`
	Next     *Cursor   `json:"next,omitempty"`
	// IndexHint is a CREATE INDEX suggestion when the table has no index
	// that makes a newest-first page cheap.
	IndexHint string        `json:"index_hint,omitempty"`
	Elapsed   time.Duration `json:"elapsed_ns"`
	// Findings holds db-sessions-index-missing when the sort matters.
	Findings finding.List `json:"findings,omitempty"`
}

// A missing creation-time index matters only on a table large enough for
// the sort to cost something: BetterAuth's own schema has none, and a
// 15-row table needs none.
const (
	indexMattersRows = 50_000 // rows at which a sort of every page is worth an index
	indexSlowPage    = 200 * time.Millisecond
	indexSlowRows    = 5_000 // rows at which a slow page is the sort's fault, not the network's
)

// sessionColumns builds the select list, with NULLs for optional columns
// the schema lacks.
func sessionColumns(s *Schema) string {
	st := s.Session
	col := func(t *Table, alias, logical, cast string) string {
		if t == nil || !t.Has(logical) {
			return "NULL::" + cast
		}
		return alias + "." + t.Col(logical) + "::" + cast
	}
	return strings.Join([]string{
		col(st, "s", ColID, "text"), col(st, "s", ColUserID, "text"), col(s.User, "u", ColEmail, "text"),
		col(s.User, "u", ColName, "text"), "left(" + col(st, "s", ColToken, "text") + ", 6)", /* never the whole token */
		col(st, "s", ColCreatedAt, "timestamptz"), col(st, "s", ColExpiresAt, "timestamptz"),
		col(st, "s", ColIPAddress, "text"), col(st, "s", ColUserAgent, "text"),
		userPresent(s),
	}, ", ")
}

func userPresent(s *Schema) string {
	if s.User == nil || !s.User.Has(ColID) {
		return "true"
	}
	return "u." + s.User.Col(ColID) + " IS NOT NULL"
}

func userJoin(s *Schema) string {
	if s.User == nil || !s.User.Has(ColID) || !s.Session.Has(ColUserID) {
		return ""
	}
	return fmt.Sprintf(" LEFT JOIN %s u ON u.%s = s.%s", s.User.Ident(), s.User.Col(ColID), s.Session.Col(ColUserID))
}

// SessionsSQL builds the page query: one bounded, index-friendly statement
// (keyset on created_at, id; LIMIT), never a full load. It is exported so
// benchmarks can run the very same SQL through psql.
func SessionsSQL(s *Schema, q SessionQuery) (string, []any, error) {
	st := s.Session
	if st == nil {
		return "", nil, errors.New("no session table")
	}
	if !st.Has(ColCreatedAt) || !st.Has(ColID) {
		return "", nil, fmt.Errorf("%s has no %s/%s column to order by", st, ColCreatedAt, ColID)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultPageSize
	}
	limit = min(limit, MaxPageSize)
	var (
		where []string
		args  []any
	)
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	created, id := "s."+st.Col(ColCreatedAt), "s."+st.Col(ColID)
	if q.After != nil {
		where = append(where, fmt.Sprintf("(%s, %s) < (%s, %s)", created, id, arg(q.After.CreatedAt), arg(q.After.ID)))
	}
	if q.ActiveOnly && st.Has(ColExpiresAt) {
		where = append(where, "s."+st.Col(ColExpiresAt)+" > now()")
	}
	if q.UserEmail != "" {
		if s.User == nil || !s.User.Has(ColEmail) {
			return "", nil, errors.New("cannot filter by user: no user table with an email column")
		}
		where = append(where, "u."+s.User.Col(ColEmail)+" = "+arg(q.UserEmail))
	}
	cols := sessionColumns(s)
	if q.countRows {
		cols += fmt.Sprintf(", (SELECT count(*) FROM (SELECT 1 FROM %s LIMIT %d) c)", st.Ident(), indexMattersRows)
	}
	sql := "SELECT " + cols + " FROM " + st.Ident() + " s" + userJoin(s)
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += fmt.Sprintf(" ORDER BY %s DESC, %s DESC LIMIT %d", created, id, limit)
	return sql, args, nil
}

// Sessions reads one page.
func (db *DB) Sessions(ctx context.Context, s *Schema, q SessionQuery) (*SessionsPage, error) {
	var (
		tableRows int64
		counted   bool
	)
	if !s.CreatedIndexed && s.Session != nil {
		db.rowsMu.Lock()
		tableRows, counted = db.rows[s.Session.String()]
		db.rowsMu.Unlock()
		q.countRows = !counted
	}
	sql, args, err := SessionsSQL(s, q)
	if err != nil {
		return nil, err
	}
	page := &SessionsPage{Sessions: []Session{}}
	if !s.CreatedIndexed {
		st := s.Session
		page.IndexHint = fmt.Sprintf("CREATE INDEX CONCURRENTLY %s ON %s (%s DESC, %s DESC);",
			pgx.Identifier{st.Name + "_created_id_idx"}.Sanitize(), st.Ident(), st.Col(ColCreatedAt), st.Col(ColID))
	}
	start := time.Now()
	now := time.Now()
	err = db.query(ctx, false, func(qr querier) error {
		rows, err := qr.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				r                                Session
				userID, email, name, tok, ip, ua *string
				created, expires                 *time.Time
				present                          bool
			)
			dest := []any{&r.ID, &userID, &email, &name, &tok, &created, &expires, &ip, &ua, &present}
			if q.countRows {
				dest = append(dest, &tableRows)
			}
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			r.UserID, r.Email, r.Name, r.IPAddress, r.UserAgent = deref(userID), deref(email), deref(name), deref(ip), deref(ua)
			if tok != nil && *tok != "" {
				r.TokenPrefix = *tok + "…" // the query returns only the prefix
			}
			if created != nil {
				r.CreatedAt = created.UTC()
			}
			if expires != nil {
				r.ExpiresAt = expires.UTC()
				r.Active = expires.After(now)
			}
			r.UserMissing = !present
			page.Sessions = append(page.Sessions, r)
		}
		return rows.Err()
	})
	page.Elapsed = time.Since(start)
	if err != nil {
		return nil, fmt.Errorf("listing sessions: %s", db.errMessage(err))
	}
	if q.countRows && len(page.Sessions) > 0 {
		db.rowsMu.Lock()
		if db.rows == nil {
			db.rows = map[string]int64{}
		}
		db.rows[s.Session.String()] = tableRows
		db.rowsMu.Unlock()
	}
	if page.IndexHint != "" {
		judgeIndex(s, page, tableRows)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultPageSize
	}
	if n := len(page.Sessions); n == min(limit, MaxPageSize) {
		last := page.Sessions[n-1]
		page.Next = &Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	return page, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TokenLookup is what the database says about one session token.
type TokenLookup struct {
	Found       bool      `json:"found"`
	SessionID   string    `json:"session_id,omitempty"`
	UserID      string    `json:"user_id,omitempty"`
	Email       string    `json:"email,omitempty"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"`
	Expired     bool      `json:"expired"`
	UserExists  bool      `json:"user_exists"`
	TokenPrefix string    `json:"token_prefix"`
}

// LookupToken finds the row for an unsigned session token and raises
// session-not-found, -expired, -user-missing or -valid. source names the
// cookie the token came from.
func (db *DB) LookupToken(ctx context.Context, s *Schema, token, source string) (TokenLookup, finding.List, error) {
	var fs finding.List
	res := TokenLookup{TokenPrefix: textsafe.TokenPrefix(token)}
	if s == nil || s.Session == nil || !s.Session.Has(ColToken) {
		return res, fs, errors.New("no session table with a token column")
	}
	st := s.Session
	sql := fmt.Sprintf("SELECT s.%s::text, s.%s::text, %s, s.%s::timestamptz, %s FROM %s s%s WHERE s.%s = $1 LIMIT 1",
		st.Col(ColID), st.Col(ColUserID), emailExpr(s), st.Col(ColExpiresAt), userPresent(s), st.Ident(), userJoin(s), st.Col(ColToken))
	var (
		email   *string
		expires *time.Time
	)
	err := db.query(ctx, false, func(q querier) error {
		return q.QueryRow(ctx, sql, token).Scan(&res.SessionID, &res.UserID, &email, &expires, &res.UserExists)
	})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		fs.Add(finding.SessionNotFound, source,
			"no row in %s holds token %s: the session was deleted (sign-out, revoke), or this server writes to another database. The signature may be fine; the row is not.",
			st, res.TokenPrefix)
		return res, fs, nil
	case err != nil:
		return res, fs, fmt.Errorf("looking up the token: %s", db.errMessage(err))
	}
	res.Found = true
	res.Email = deref(email)
	if expires != nil {
		res.ExpiresAt = expires.UTC()
		res.Expired = !expires.After(time.Now())
	}
	switch {
	case res.Expired:
		fs.Add(finding.SessionExpired, source,
			"session %s expired at %s: BetterAuth answers null and clears the cookie. Sign in again; if it happens early, check session.expiresIn and the clocks.",
			res.SessionID, res.ExpiresAt.Format(time.RFC3339))
	case !res.UserExists:
		fs.Add(finding.SessionUserMissing, source,
			"session %s belongs to user %s, who no longer exists in %s: BetterAuth answers null. Delete the orphan sessions.",
			res.SessionID, res.UserID, s.User)
	default:
		fs.Add(finding.SessionValid, source,
			"session %s of %s is valid until %s.", res.SessionID, res.Email, res.ExpiresAt.Format(time.RFC3339))
	}
	return res, fs, nil
}

func emailExpr(s *Schema) string {
	if s.User == nil || !s.User.Has(ColEmail) {
		return "NULL::text"
	}
	return "u." + s.User.Col(ColEmail) + "::text"
}

// RevokeSession deletes one session by id. It needs a connection opened
// with AllowWrites.
func (db *DB) RevokeSession(ctx context.Context, s *Schema, id string) error {
	if !db.opts.AllowWrites {
		return errors.New("the database is open read-only; start with --allow-writes to revoke sessions")
	}
	if s == nil || s.Session == nil {
		return errors.New("no session table")
	}
	sql := fmt.Sprintf("DELETE FROM %s WHERE %s = $1", s.Session.Ident(), s.Session.Col(ColID))
	var n int64
	err := db.query(ctx, true, func(q querier) error {
		tag, err := q.Exec(ctx, sql, id)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("revoking: %s", db.errMessage(err))
	}
	if n == 0 {
		return fmt.Errorf("no session with id %s", id)
	}
	return nil
}

// ReplayToken returns the unsigned token of one session, for session
// replay: id "latest" means the newest unexpired session. The token is a
// live credential: callers use it for one request and never display it.
func (db *DB) ReplayToken(ctx context.Context, s *Schema, id string) (token, sessionID string, err error) {
	if s == nil || s.Session == nil || !s.Session.Has(ColToken) || !s.Session.Has(ColID) {
		return "", "", errors.New("no session table with id and token columns")
	}
	st := s.Session
	var sql string
	var args []any
	if id == "latest" {
		sql = fmt.Sprintf("SELECT %s::text, %s::text FROM %s", st.Col(ColToken), st.Col(ColID), st.Ident())
		if st.Has(ColExpiresAt) {
			sql += " WHERE " + st.Col(ColExpiresAt) + " > now()"
		}
		if st.Has(ColCreatedAt) {
			sql += " ORDER BY " + st.Col(ColCreatedAt) + " DESC"
		}
		sql += " LIMIT 1"
	} else {
		sql = fmt.Sprintf("SELECT %s::text, %s::text FROM %s WHERE %s = $1", st.Col(ColToken), st.Col(ColID), st.Ident(), st.Col(ColID))
		args = append(args, id)
	}
	err = db.query(ctx, false, func(q querier) error { return q.QueryRow(ctx, sql, args...).Scan(&token, &sessionID) })
	if errors.Is(err, pgx.ErrNoRows) {
		if id == "latest" {
			return "", "", errors.New("no unexpired session to replay")
		}
		return "", "", fmt.Errorf("no session with id %s", id)
	}
	if err != nil {
		return "", "", fmt.Errorf("reading the session: %s", db.errMessage(err))
	}
	return token, sessionID, nil
}

// judgeIndex raises db-sessions-index-missing when the table is large
// enough, or the page slow enough with enough rows, for the sort to
// matter. rows is the table's row count, bounded at indexMattersRows.
func judgeIndex(s *Schema, page *SessionsPage, rows int64) {
	switch {
	case rows >= indexMattersRows:
		page.Findings.Add(finding.DBSessionsIndexMissing, s.Session.String(),
			"%s has %d+ rows and no index leading with the creation time, so every newest-first page (authtui's, an admin UI's) sorts the whole table. Add one: %s", s.Session, rows, page.IndexHint)
	case rows >= indexSlowRows && page.Elapsed >= indexSlowPage:
		page.Findings.Add(finding.DBSessionsIndexMissing, s.Session.String(),
			"a newest-first page of %s (%d rows) took %s because no index leads with the creation time and the table is sorted each time. Add one: %s", s.Session, rows, page.Elapsed.Round(time.Millisecond), page.IndexHint)
	}
}

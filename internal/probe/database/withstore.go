package database

import (
	"sort"
	"time"

	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/store"
)

// WithStore merges the database's newest sessions with the session
// store's (BetterAuth's secondaryStorage), newest first, at most limit,
// each marked with where it lives: "database", "store" or
// "database+store".
func WithStore(rows []Session, recent []store.Session, now time.Time, limit int) []Session {
	out := make([]Session, 0, len(rows)+len(recent))
	byID := map[string]int{}
	for _, s := range rows {
		s.Stored = "database"
		byID[s.ID] = len(out)
		out = append(out, s)
	}
	for _, s := range recent {
		if i, ok := byID[s.SessionID]; ok {
			out[i].Stored = "database+store"
			continue
		}
		out = append(out, Session{
			ID: s.SessionID, UserID: s.UserID, Email: s.Email, TokenPrefix: s.TokenPrefix,
			CreatedAt: s.CreatedAt, ExpiresAt: s.ExpiresAt, Active: s.ExpiresAt.After(now) && !s.Revoked, Stored: "store",
		})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

// ForStore reads a schema with a user table but no session table as what
// it is: BetterAuth with secondaryStorage, whose migrations create no
// session table unless session.storeSessionInDatabase is on. That is no
// missing schema: db-schema-missing is dropped, and without a store to
// look in, sessions-elsewhere says where the sessions are.
func ForStore(fs finding.List, s *Schema, storeConfigured bool) finding.List {
	if s == nil || s.Session != nil || s.User == nil {
		return fs
	}
	var kept finding.List
	for _, f := range fs {
		if f.ID != finding.DBSchemaMissing {
			kept = append(kept, f)
		}
	}
	if !storeConfigured {
		kept = append(kept, finding.New(finding.SessionsElsewhere, "database",
			"the database has a user table (%s) but no session table: BetterAuth with secondaryStorage (Redis, Valkey, Upstash) keeps sessions in the store, and its migrations create no session table unless session.storeSessionInDatabase is on. Pass --redis-url (the app's REDIS_URL) to look there.", s.User))
	}
	return kept
}

package database

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// VerificationLookup is what the verification table holds for one
// identifier (a social sign-in's "auth-state:<state>").
type VerificationLookup struct {
	Table     string    `json:"table"`
	Found     bool      `json:"found"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// LookupVerification reads the row of identifier from BetterAuth's
// verification table, found next to the session (or user) table: one
// read-only catalogue query and one SELECT of the expiry. It never reads
// the row's value (the OAuth state's PKCE verifier lives there).
func (db *DB) LookupVerification(ctx context.Context, s *Schema, identifier string) (VerificationLookup, error) {
	var res VerificationLookup
	schema := "public"
	switch {
	case s != nil && s.Session != nil:
		schema = s.Session.Schema
	case s != nil && s.User != nil:
		schema = s.User.Schema
	}
	var table, idCol, expCol string
	err := db.query(ctx, false, func(q querier) error {
		rows, err := q.Query(ctx, `SELECT table_name::text, column_name::text FROM information_schema.columns
			WHERE table_schema = $1 AND lower(replace(table_name, '_', '')) IN ('verification', 'verifications')
			ORDER BY table_name, ordinal_position`, schema)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var t, c string
			if err := rows.Scan(&t, &c); err != nil {
				return err
			}
			if table != "" && t != table {
				continue
			}
			table = t
			switch normalize(c) {
			case "identifier":
				idCol = c
			case "expiresat":
				expCol = c
			}
		}
		return rows.Err()
	})
	if err != nil {
		return res, fmt.Errorf("reading the catalogue: %s", db.errMessage(err))
	}
	if table == "" || idCol == "" {
		return res, fmt.Errorf("no verification table with an identifier column in schema %s", schema)
	}
	t := Table{Schema: schema, Name: table}
	res.Table = t.String()
	exp := "NULL::timestamptz"
	if expCol != "" {
		exp = pgx.Identifier{expCol}.Sanitize() + "::timestamptz"
	}
	sql := fmt.Sprintf("SELECT %s FROM %s WHERE %s = $1 LIMIT 1", exp, t.Ident(), pgx.Identifier{idCol}.Sanitize())
	var expires *time.Time
	err = db.query(ctx, false, func(q querier) error { return q.QueryRow(ctx, sql, identifier).Scan(&expires) })
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return res, nil
	case err != nil:
		return res, fmt.Errorf("looking up the verification row: %s", db.errMessage(err))
	}
	res.Found = true
	if expires != nil {
		res.ExpiresAt = expires.UTC()
	}
	return res, nil
}

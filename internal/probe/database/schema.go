package database

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/authtui/authtui/internal/probe/finding"
)

// Logical columns authtui reads, named as BetterAuth names them. The
// physical names vary: "expiresAt" (Kysely), expires_at (Drizzle/Prisma
// snake_case), and so on.
const (
	ColID        = "id"
	ColToken     = "token"
	ColExpiresAt = "expiresAt"
	ColUserID    = "userId"
	ColCreatedAt = "createdAt"
	ColUpdatedAt = "updatedAt"
	ColIPAddress = "ipAddress"
	ColUserAgent = "userAgent"
	ColEmail     = "email"
	ColName      = "name"
	ColVerified  = "emailVerified"
)

var (
	sessionNeeds    = []string{ColID, ColToken, ColExpiresAt, ColUserID, ColCreatedAt, ColUpdatedAt}
	sessionOptional = []string{ColIPAddress, ColUserAgent}
	userNeeds       = []string{ColID, ColEmail, ColName, ColVerified, ColCreatedAt, ColUpdatedAt}
)

// Table is a detected table and its logical-to-physical column map.
type Table struct {
	Schema  string            `json:"schema"`
	Name    string            `json:"name"`
	Columns map[string]string `json:"columns"` // logical -> physical
	Missing []string          `json:"missing,omitempty"`
}

// Ident is the quoted, schema-qualified name for SQL.
func (t Table) Ident() string { return pgx.Identifier{t.Schema, t.Name}.Sanitize() }

// Col is the quoted physical column for a logical one; "" when absent.
func (t Table) Col(logical string) string {
	if c, ok := t.Columns[logical]; ok {
		return pgx.Identifier{c}.Sanitize()
	}
	return ""
}

// Has reports whether the table has the logical column.
func (t Table) Has(logical string) bool { _, ok := t.Columns[logical]; return ok }

func (t Table) String() string { return t.Schema + "." + t.Name }

// Schema is where BetterAuth's data lives in this database.
type Schema struct {
	Session        *Table `json:"session,omitempty"`
	User           *Table `json:"user,omitempty"`
	ExpiresType    string `json:"expires_type,omitempty"` // data type of the expiry column
	TokenUnique    bool   `json:"token_unique"`
	CreatedIndexed bool   `json:"created_indexed"` // an index leads with the creation time
	Orphans        int64  `json:"orphans"`         // sessions whose user is gone (capped)
	OrphansChecked bool   `json:"orphans_checked"`
	Searched       string `json:"searched,omitempty"`
}

// normalize folds a column or table name to compare across conventions:
// "expiresAt", "expires_at" and "EXPIRES_AT" all become "expiresat".
func normalize(s string) string {
	return strings.ToLower(strings.ReplaceAll(s, "_", ""))
}

type column struct{ schema, table, name, typ string }

// DetectSchema finds the session and user tables. It looks at every
// non-system schema, preferring the ones on search_path, so a Drizzle
// pgSchema("auth") is found too; Options' table overrides win.
func (db *DB) DetectSchema(ctx context.Context) (*Schema, finding.List, error) {
	var (
		cols       []column
		searchPath []string
	)
	err := db.query(ctx, false, func(q querier) error {
		if err := q.QueryRow(ctx, `SELECT current_schemas(false)`).Scan(&searchPath); err != nil {
			return err
		}
		rows, err := q.Query(ctx, `
SELECT c.table_schema, c.table_name, c.column_name, c.data_type
FROM information_schema.columns c
JOIN information_schema.tables t USING (table_schema, table_name)
WHERE t.table_type = 'BASE TABLE'
  AND c.table_schema NOT IN ('pg_catalog', 'information_schema')
  AND c.table_schema NOT LIKE 'pg\_%'
ORDER BY c.table_schema, c.table_name, c.ordinal_position`)
		if err != nil {
			return err
		}
		cols, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (column, error) {
			var c column
			err := r.Scan(&c.schema, &c.table, &c.name, &c.typ)
			return c, err
		})
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("reading the catalogue: %s", db.errMessage(err))
	}
	return db.pickTables(ctx, cols, searchPath)
}

type tableCols struct {
	schema, name string
	cols         map[string]column // normalized -> column
}

func (db *DB) pickTables(ctx context.Context, cols []column, searchPath []string) (*Schema, finding.List, error) {
	var fs finding.List
	tables := map[string]*tableCols{}
	var order []string
	for _, c := range cols {
		key := c.schema + "." + c.table
		t, ok := tables[key]
		if !ok {
			t = &tableCols{schema: c.schema, name: c.table, cols: map[string]column{}}
			tables[key] = t
			order = append(order, key)
		}
		t.cols[normalize(c.name)] = c
	}
	rank := func(t *tableCols) int { // lower is better: search_path order, then the rest
		for i, s := range searchPath {
			if s == t.schema {
				return i
			}
		}
		return len(searchPath)
	}
	pick := func(override string, names []string, needs []string) *tableCols {
		if override != "" {
			schema, name, qualified := strings.Cut(override, ".")
			var best *tableCols
			for _, key := range order {
				t := tables[key]
				switch {
				case qualified && t.schema == schema && t.name == name:
					return t
				case !qualified && t.name == override && (best == nil || rank(t) < rank(best)):
					best = t
				}
			}
			return best
		}
		var cands []*tableCols
		for _, key := range order {
			t := tables[key]
			n := normalize(t.name)
			named := false
			for _, want := range names {
				if n == want {
					named = true
				}
			}
			hasAll := true
			for _, col := range needs {
				if _, ok := t.cols[normalize(col)]; !ok {
					hasAll = false
				}
			}
			if named || hasAll {
				cands = append(cands, t)
			}
		}
		sort.SliceStable(cands, func(i, j int) bool {
			si, sj := score(cands[i], names, needs), score(cands[j], names, needs)
			if si != sj {
				return si > sj
			}
			return rank(cands[i]) < rank(cands[j])
		})
		if len(cands) == 0 {
			return nil
		}
		return cands[0]
	}

	s := &Schema{Searched: "every non-system schema (search_path: " + strings.Join(searchPath, ", ") + ")"}
	st := pick(db.opts.SessionTable, []string{"session", "sessions", "authsession", "authsessions"}, []string{ColToken, ColExpiresAt, ColUserID})
	if st == nil {
		what := "a table named session or sessions, or one with token, expiresAt/expires_at and userId/user_id columns"
		if db.opts.SessionTable != "" {
			what = "the table " + db.opts.SessionTable + " (--session-table)"
		}
		fs.Add(finding.DBSchemaMissing, db.target.Database,
			"no BetterAuth session table in %s: searched %s for %s. Run BetterAuth's migrations (npx @better-auth/cli migrate) or pass --session-table.",
			db.target.Database, s.Searched, what)
		return s, fs, nil
	}
	s.Session = mapTable(st, sessionNeeds, sessionOptional)
	if c, ok := st.cols[normalize(ColExpiresAt)]; ok {
		s.ExpiresType = c.typ
	}
	ut := pick(db.opts.UserTable, []string{"user", "users", "authuser", "authusers"}, []string{ColEmail, ColVerified})
	if ut != nil {
		s.User = mapTable(ut, userNeeds, nil)
	}
	for _, t := range []*Table{s.Session, s.User} {
		if t != nil && len(t.Missing) > 0 {
			fs.Add(finding.DBSchemaMismatch, t.String(),
				"%s lacks columns BetterAuth needs: %s. BetterAuth's queries on it fail; run its migrations or map the fields (fields option).",
				t, strings.Join(t.Missing, ", "))
		}
	}
	if s.User == nil {
		fs.Add(finding.DBSchemaMismatch, st.schema+"."+st.name,
			"found the session table %s.%s but no user table (user/users with email): sessions cannot be joined to users.", st.schema, st.name)
	}
	if s.ExpiresType == "timestamp without time zone" {
		fs.Add(finding.DBClockSkew, s.Session.String(),
			"%s.%s is timestamp without time zone: expiry is compared in the server's time zone, so sessions expire early or late by the UTC offset. Use timestamptz.",
			s.Session, s.Session.Columns[ColExpiresAt])
	}
	if err := db.checkIndexes(ctx, s, &fs); err != nil {
		return s, fs, err
	}
	return s, fs, nil
}

func score(t *tableCols, names, needs []string) int {
	n := 0
	for i, want := range names {
		if normalize(t.name) == want {
			n += 10 - i
		}
	}
	for _, col := range needs {
		if _, ok := t.cols[normalize(col)]; ok {
			n += 5
		}
	}
	return n
}

func mapTable(t *tableCols, needs, optional []string) *Table {
	out := &Table{Schema: t.schema, Name: t.name, Columns: map[string]string{}}
	for _, logical := range append(append([]string{}, needs...), optional...) {
		if c, ok := t.cols[normalize(logical)]; ok {
			out.Columns[logical] = c.name
		}
	}
	for _, logical := range needs {
		if _, ok := out.Columns[logical]; !ok {
			out.Missing = append(out.Missing, logical)
		}
	}
	return out
}

// checkIndexes looks for a unique index on the token column and for an
// index that leads with the creation time (what a newest-first page needs).
func (db *DB) checkIndexes(ctx context.Context, s *Schema, fs *finding.List) error {
	t := s.Session
	type idx struct {
		unique  bool
		leading string
		ncols   int
	}
	var idxs []idx
	err := db.query(ctx, false, func(q querier) error {
		rows, err := q.Query(ctx, `
SELECT i.indisunique, a.attname, i.indnkeyatts
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
WHERE n.nspname = $1 AND c.relname = $2 AND i.indisvalid`, t.Schema, t.Name)
		if err != nil {
			return err
		}
		idxs, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (idx, error) {
			var x idx
			err := r.Scan(&x.unique, &x.leading, &x.ncols)
			return x, err
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("reading indexes: %s", db.errMessage(err))
	}
	for _, x := range idxs {
		if x.unique && x.ncols == 1 && x.leading == t.Columns[ColToken] {
			s.TokenUnique = true
		}
		if x.leading == t.Columns[ColCreatedAt] {
			s.CreatedIndexed = true
		}
	}
	if !s.TokenUnique && t.Has(ColToken) {
		fs.Add(finding.DBTokenIndexMissing, t.String(),
			"%s has no unique index on %s: every get-session scans the table, and duplicate tokens are possible. CREATE UNIQUE INDEX CONCURRENTLY ON %s (%s);",
			t, t.Columns[ColToken], t.Ident(), t.Col(ColToken))
	}
	return nil
}

// CheckOrphans counts sessions whose user row is gone, up to a cap so
// that the check stays bounded on a large table.
func (db *DB) CheckOrphans(ctx context.Context, s *Schema) (finding.List, error) {
	var fs finding.List
	if s.Session == nil || s.User == nil || !s.Session.Has(ColUserID) || !s.User.Has(ColID) {
		return fs, nil
	}
	const capN = 1000
	sql := fmt.Sprintf(`SELECT count(*) FROM (SELECT 1 FROM %s s WHERE NOT EXISTS (SELECT 1 FROM %s u WHERE u.%s = s.%s) LIMIT %d) o`,
		s.Session.Ident(), s.User.Ident(), s.User.Col(ColID), s.Session.Col(ColUserID), capN)
	err := db.query(ctx, false, func(q querier) error { return q.QueryRow(ctx, sql).Scan(&s.Orphans) })
	if err != nil {
		return fs, fmt.Errorf("orphan check: %s", db.errMessage(err))
	}
	s.OrphansChecked = true
	if s.Orphans > 0 {
		n := fmt.Sprint(s.Orphans)
		if s.Orphans >= capN {
			n = fmt.Sprintf("at least %d", capN)
		}
		fs.Add(finding.DBOrphanSessions, s.Session.String(),
			"%s sessions in %s belong to no user in %s: users deleted without their sessions (no ON DELETE CASCADE). Their cookies get null; delete the rows.",
			n, s.Session, s.User)
	}
	return fs, nil
}

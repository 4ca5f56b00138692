package database

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

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

// index is one valid index of a candidate table, by its leading column.
type index struct {
	schema, table string
	unique        bool
	leading       string
	ncols         int
}

// The names and columns that make a table a candidate (see pick); the
// catalogue query filters with the same lists, so it sends only the
// tables pick could choose.
var (
	sessionNames = []string{"session", "sessions", "authsession", "authsessions"}
	userNames    = []string{"user", "users", "authuser", "authusers"}
	sessionKeys  = []string{ColToken, ColExpiresAt, ColUserID}
	userKeys     = []string{ColEmail, ColVerified}
)

// catalogueSQL lists, in one statement, the columns (kind 'c') and the
// valid indexes by leading column (kind 'i') of every base table outside
// the system schemas that pick could choose: named like BetterAuth's
// tables, named by an override, or holding all the columns pick looks
// for. The rest of a large catalogue never crosses the network. Names are
// compared as normalize does ($1, $3, $4 are normalized already).
//
// It reads pg_catalog, not information_schema, whose views cost 10–40 ms
// of planning and nested loops per call; the rows are those of
// information_schema.columns joined with its BASE TABLEs: the same
// visibility (columns the user owns or holds a privilege on), the same
// data_type expression, ordered by name as there (name sorts by "C").
const catalogueSQL = `
WITH cols AS (
	SELECT c.oid AS rel, nc.nspname AS s, c.relname AS t, a.attname AS col, a.attnum AS pos,
	       CASE WHEN t.typtype = 'd' THEN
	              CASE WHEN bt.typelem <> 0 AND bt.typlen = -1 THEN 'ARRAY'
	                   WHEN nbt.nspname = 'pg_catalog' THEN format_type(t.typbasetype, NULL)
	                   ELSE 'USER-DEFINED' END
	            ELSE
	              CASE WHEN t.typelem <> 0 AND t.typlen = -1 THEN 'ARRAY'
	                   WHEN nt.nspname = 'pg_catalog' THEN format_type(a.atttypid, NULL)
	                   ELSE 'USER-DEFINED' END
	       END AS typ
	FROM pg_attribute a
	JOIN pg_class c ON c.oid = a.attrelid
	JOIN pg_namespace nc ON nc.oid = c.relnamespace
	JOIN pg_type t ON t.oid = a.atttypid
	JOIN pg_namespace nt ON nt.oid = t.typnamespace
	LEFT JOIN (pg_type bt JOIN pg_namespace nbt ON nbt.oid = bt.typnamespace)
	       ON t.typtype = 'd' AND t.typbasetype = bt.oid
	WHERE a.attnum > 0 AND NOT a.attisdropped
	  AND c.relkind IN ('r', 'p')
	  AND nc.nspname NOT IN ('pg_catalog', 'information_schema') AND nc.nspname NOT LIKE 'pg\_%'
	  AND (pg_has_role(c.relowner, 'USAGE') OR has_column_privilege(c.oid, a.attnum, 'SELECT, INSERT, UPDATE, REFERENCES'))
), cand AS (
	SELECT rel FROM cols GROUP BY rel, t
	HAVING lower(replace(t, '_', '')) = ANY($1::text[])
	    OR t = ANY($2::text[])
	    OR array_agg(lower(replace(col, '_', ''))) @> $3::text[]
	    OR array_agg(lower(replace(col, '_', ''))) @> $4::text[]
)
SELECT kind, s::text, t::text, name::text, typ, pos, uniq, ncols FROM (
	SELECT 'c' AS kind, s, t, col AS name, typ, pos::int AS pos, false AS uniq, 0 AS ncols
	FROM cols WHERE rel IN (SELECT rel FROM cand)
	UNION ALL
	SELECT 'i', n.nspname, c.relname, a.attname, '', 0, i.indisunique, i.indnkeyatts::int
	FROM pg_index i
	JOIN pg_class c ON c.oid = i.indrelid
	JOIN pg_namespace n ON n.oid = c.relnamespace
	JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
	WHERE i.indisvalid AND i.indrelid IN (SELECT rel FROM cand)
) x
ORDER BY kind, s, t, pos`

// catalogue is what DetectSchema reads from the server.
type catalogue struct {
	searchPath []string
	cols       []column
	indexes    []index
}

func normalizeAll(names ...[]string) []string {
	out := []string{}
	for _, l := range names {
		for _, n := range l {
			out = append(out, normalize(n))
		}
	}
	return out
}

// queue adds the catalogue's statements to b, to be read into cat.
func (cat *catalogue) queue(b *pgx.Batch, opts Options) {
	overrides := []string{}
	for _, o := range []string{opts.SessionTable, opts.UserTable} {
		if o != "" {
			_, name, qualified := strings.Cut(o, ".")
			if !qualified {
				name = o
			}
			overrides = append(overrides, name)
		}
	}
	b.Queue(`SELECT current_schemas(false)`).QueryRow(func(r pgx.Row) error { return r.Scan(&cat.searchPath) })
	b.Queue(catalogueSQL, normalizeAll(sessionNames, userNames), overrides, normalizeAll(sessionKeys), normalizeAll(userKeys)).
		Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var (
					kind, schema, table, name, typ string
					pos, ncols                     int
					unique                         bool
				)
				if err := rows.Scan(&kind, &schema, &table, &name, &typ, &pos, &unique, &ncols); err != nil {
					return err
				}
				if kind == "c" {
					cat.cols = append(cat.cols, column{schema: schema, table: table, name: name, typ: typ})
				} else {
					cat.indexes = append(cat.indexes, index{schema: schema, table: table, unique: unique, leading: name, ncols: ncols})
				}
			}
			return rows.Err()
		})
}

// DetectSchema finds the session and user tables. It looks at every
// non-system schema, preferring the ones on search_path, so a Drizzle
// pgSchema("auth") is found too; Options' table overrides win. The
// search path, the candidate tables' columns and their indexes come in
// one round trip.
func (db *DB) DetectSchema(ctx context.Context) (*Schema, finding.List, error) {
	var cat catalogue
	b := &pgx.Batch{}
	cat.queue(b, db.opts)
	if err := db.roundTrip(ctx, b); err != nil {
		return nil, nil, fmt.Errorf("reading the catalogue: %s", db.errMessage(err))
	}
	s, fs := db.pickTables(cat)
	return s, fs, nil
}

type tableCols struct {
	schema, name string
	cols         map[string]column // normalized -> column
}

// pickTables chooses the tables from the catalogue; it asks the server
// nothing more.
func (db *DB) pickTables(cat catalogue) (*Schema, finding.List) {
	var fs finding.List
	searchPath := cat.searchPath
	tables := map[string]*tableCols{}
	var order []string
	for _, c := range cat.cols {
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
	st := pick(db.opts.SessionTable, sessionNames, sessionKeys)
	// The user table is found even without a session table: a user table
	// alone is what BetterAuth's migrations leave when sessions live in
	// secondaryStorage.
	ut := pick(db.opts.UserTable, userNames, userKeys)
	if ut != nil {
		s.User = mapTable(ut, userNeeds, nil)
	}
	if st == nil {
		what := "a table named session or sessions, or one with token, expiresAt/expires_at and userId/user_id columns"
		if db.opts.SessionTable != "" {
			what = "the table " + db.opts.SessionTable + " (--session-table)"
		}
		fs.Add(finding.DBSchemaMissing, db.target.Database,
			"no BetterAuth session table in %s: searched %s for %s. Run BetterAuth's migrations (npx @better-auth/cli migrate) or pass --session-table.",
			db.target.Database, s.Searched, what)
		return s, fs
	}
	s.Session = mapTable(st, sessionNeeds, sessionOptional)
	if c, ok := st.cols[normalize(ColExpiresAt)]; ok {
		s.ExpiresType = c.typ
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
	checkIndexes(s, cat.indexes, &fs)
	return s, fs
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
func checkIndexes(s *Schema, idxs []index, fs *finding.List) {
	t := s.Session
	for _, x := range idxs {
		if x.schema != t.Schema || x.table != t.Name {
			continue
		}
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
}

// CheckOrphans counts sessions whose user row is gone, up to a cap so
// that the check stays bounded on a large table.
func (db *DB) CheckOrphans(ctx context.Context, s *Schema) (finding.List, error) {
	fs, _, _, err := db.checkOrphans(ctx, s)
	if errors.Is(err, errNoJoin) {
		return fs, nil
	}
	return fs, err
}

// errNoJoin: the schema has no session-to-user link to count orphans by.
var errNoJoin = errors.New("no session and user tables to join")

// checkOrphans is CheckOrphans that also measures the network: network
// is its round trip less the server's time on the count (clock_timestamp()
// before and after it, in the same round trip), started when it was sent.
func (db *DB) checkOrphans(ctx context.Context, s *Schema) (fs finding.List, network time.Duration, started time.Time, err error) {
	if s.Session == nil || s.User == nil || !s.Session.Has(ColUserID) || !s.User.Has(ColID) {
		return fs, 0, time.Time{}, errNoJoin
	}
	const capN = 1000
	sql := fmt.Sprintf(`SELECT count(*) FROM (SELECT 1 FROM %s s WHERE NOT EXISTS (SELECT 1 FROM %s u WHERE u.%s = s.%s) LIMIT %d) o`,
		s.Session.Ident(), s.User.Ident(), s.User.Col(ColID), s.Session.Col(ColUserID), capN)
	var from, to time.Time
	b := &pgx.Batch{}
	b.Queue(`SELECT clock_timestamp()`).QueryRow(func(r pgx.Row) error { return r.Scan(&from) })
	b.Queue(sql).QueryRow(func(r pgx.Row) error { return r.Scan(&s.Orphans) })
	b.Queue(`SELECT clock_timestamp()`).QueryRow(func(r pgx.Row) error { return r.Scan(&to) })
	started = time.Now()
	err = db.roundTrip(ctx, b)
	network = max(0, time.Since(started)-to.Sub(from))
	if err != nil {
		return fs, 0, started, fmt.Errorf("orphan check: %s", db.errMessage(err))
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
	return fs, network, started, nil
}

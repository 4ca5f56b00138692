package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/database"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/jwtcheck"
	"github.com/authtui/authtui/internal/probe/store"
	"github.com/authtui/authtui/internal/probe/textsafe"
	"github.com/authtui/authtui/internal/report"
)

// maxInput caps what decode reads: a real paste is a few KB; a mistaken
// file or pipe must not exhaust memory.
const maxInput = 16 << 20

func runDecode(a *app, args []string) (int, error) {
	var (
		c                       common
		d                       dbFlags
		baseURL, origin, prefix string
	)
	fs := newFlagSet(a, "decode", "decode [flags] [INPUT | - | @FILE]", `
Decode and verify what you paste: a cookie value, name=value, a Cookie or
Set-Cookie header, a curl command copied from the browser, Authorization:
Bearer, DevTools cookie rows. Every signature is checked against every
candidate secret (each source's current and older secrets, and BetterAuth's
built-in default), and the sources that verify it are named.

INPUT is the text itself; - or no INPUT with a pipe reads stdin; @FILE reads
a file.

Examples:
  authtui decode --env-file auth.env --env-file api.env 'better-auth.session_token=…'
  pbpaste | authtui decode --env-file .env -
  authtui decode --origin https://app.example.com @set-cookie.txt`)
	c.register(fs)
	d.register(fs)
	fs.StringVar(&baseURL, "base-url", "", "URL of the auth service that set the cookies (default: BETTER_AUTH_URL of the sources)")
	fs.StringVar(&origin, "origin", "", "front-end origin that must send the cookies, for SameSite checks")
	fs.StringVar(&prefix, "cookie-prefix", "", "expected advanced.cookiePrefix (default: not checked)")
	pos, err := parseInterleaved(fs, args)
	if err == errHelp {
		return exitOK, nil
	} else if err != nil {
		return exitUsage, err
	}
	if len(pos) > 1 {
		return exitUsage, usagef("one INPUT at most; quote the paste, or use - to read stdin")
	}
	input, err := readInput(a, pos)
	if err != nil {
		return exitUsage, err
	}

	sources, fsLoad := c.loadSources(a)
	if prefix == "" {
		prefix = c.cookiePrefix()
	}
	secrets := probe.CheckSecrets(sources)
	if baseURL == "" {
		for _, s := range secrets.Sources {
			if s.BaseURL != "" {
				baseURL = strings.TrimSpace(s.BaseURL)
				break
			}
		}
	}
	if raw := strings.TrimSpace(input); jwtcheck.Looks(raw) {
		if t, err := jwtcheck.Parse(raw); err == nil && t.Alg != "HS256" {
			// A jwt() plugin token (HS256 is the session_data cookie
			// cache, which the cookie decoder verifies with the secret).
			return decodeJWT(a, &c, raw, baseURL, secrets, fsLoad)
		}
	}
	rep, in := probe.DecodeInput(input, probe.DecodeOptions{
		Candidates: secrets.Candidates, BaseURL: baseURL, Origin: origin, CookiePrefix: prefix, Now: time.Now(),
	})
	// Findings about the sources that change what could be verified.
	var pre finding.List
	pre = append(pre, fsLoad...)
	for _, f := range secrets.Findings {
		if f.ID == finding.SecretsMalformed {
			pre = append(pre, f)
		}
	}
	rep.Findings = append(pre, rep.Findings...)
	// The database and the store, resolved once for both lookups.
	cfg := probe.Resolve(probe.Flags{DatabaseURL: d.url, StoreURL: d.storeURL, Declared: c.declared()}, sources, a.getenv)
	rep.Database = lookupTokens(a, &d, cfg, &rep)
	lookupStore(&d, cfg, &rep)
	if c.json {
		return exitFor(rep.Findings), writeJSON(a.stdout, rep)
	}
	err = writeDecodeText(a.stdout, c.colors(a), rep, report.DecodeOptions{Input: report.InputKind(in), Size: len(input)})
	return exitFor(rep.Findings), err
}

// jwtOutput is the JSON of `decode` for a jwt() plugin token.
type jwtOutput struct {
	JWT      jwtcheck.Report `json:"jwt"`
	JWKS     string          `json:"jwks"`
	Findings finding.List    `json:"findings"`
}

// decodeJWT verifies a pasted JWT against the auth service's JWKS, and
// its issuer against every source's base URL.
func decodeJWT(a *app, c *common, raw, baseURL string, secrets probe.SecretsReport, fsLoad finding.List) (int, error) {
	from := ""
	if baseURL != "" {
		from = jwtcheck.JWKSURL(baseURL)
	}
	var issuers []jwtcheck.Expected
	for _, s := range secrets.Sources {
		if s.BaseURL != "" {
			issuers = append(issuers, jwtcheck.Expected{Label: s.Label, Value: strings.TrimSpace(s.BaseURL)})
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rep := jwtcheck.Check(ctx, nil, raw, from, 10*time.Second, jwtcheck.Options{Issuers: issuers})
	fs := append(append(finding.List{}, fsLoad...), rep.Findings...)
	if c.json {
		return exitFor(fs), writeJSON(a.stdout, jwtOutput{JWT: rep, JWKS: textsafe.URL(from), Findings: fs})
	}
	err := report.Text(a.stdout, []report.Block{report.JWT(rep, textsafe.URL(from)), report.Findings(fs)}, newStyle(c.colors(a)).reportText())
	return exitFor(fs), err
}

// lookupTokens checks the decoded tokens against the database when one is
// configured, and says in one phrase what happened.
func lookupTokens(a *app, d *dbFlags, cfg probe.Config, rep *probe.DecodeReport) string {
	url := cfg.DatabaseURL.Value
	if url == "" {
		return report.LookupNotConfigured
	}
	hasToken := false
	for _, c := range rep.Cookies {
		hasToken = hasToken || c.Token() != ""
	}
	if !hasToken {
		return report.LookupNoToken
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*d.timeout)
	defer cancel()
	db, err := database.Open(ctx, d.options(url))
	if err != nil {
		ce := asConnectError(err)
		rep.Findings.Add(finding.DBUnreachable, "", "tokens not looked up: cannot connect to the database (%s): %s", ce.Class, ce.Message)
		return report.LookupUnreachable
	}
	defer db.Close()
	schema, fs, err := db.DetectSchema(ctx)
	if err == nil {
		fs = database.ForStore(fs, schema, cfg.StoreURL.Set())
	}
	rep.Findings = append(rep.Findings, fs...)
	if err != nil || schema.Session == nil {
		return report.LookupNoSessionTable
	}
	if err := rep.LookupTokens(ctx, tokenLooker(db, schema)); err != nil {
		fmt.Fprintf(a.stderr, "authtui decode: %s\n", textsafe.Safe(err.Error()))
		return report.LookupFailed
	}
	return report.LookupChecked
}

// lookupStore looks each decoded session token up in the session store
// (secondaryStorage) when one is configured, judged together with what
// the database said of it.
func lookupStore(d *dbFlags, cfg probe.Config, rep *probe.DecodeReport) {
	if !cfg.StoreURL.Set() {
		return
	}
	var tokens []probe.CookieReport
	for _, ck := range rep.Cookies {
		if ck.Token() != "" && (ck.Kind == probe.KindSessionToken || ck.Kind == probe.KindBearer) {
			tokens = append(tokens, ck)
		}
	}
	if len(tokens) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*d.timeout)
	defer cancel()
	st, err := store.Open(ctx, store.Options{URL: cfg.StoreURL.Value, Timeout: d.timeout})
	if err != nil {
		rep.Findings = append(rep.Findings, store.Combine(nil, err, store.Row{})...)
		return
	}
	defer st.Close()
	for _, ck := range tokens {
		s, err := st.Lookup(ctx, ck.Token())
		row := store.Row{}
		if r := ck.SessionRow; r != nil {
			row = store.Row{Checked: true, Found: r.Found, ExpiresAt: r.ExpiresAt, UserID: r.UserID}
		}
		var fs finding.List
		if err != nil {
			fs = store.Combine(nil, err, row)
		} else {
			fs = store.Combine(&s, nil, row)
		}
		for i := range fs {
			fs[i].Source = ck.Name
		}
		rep.Findings = append(rep.Findings, fs...)
	}
}

func readInput(a *app, pos []string) (string, error) {
	var r io.Reader
	size := int64(-1) // when known: a regular file
	switch {
	case len(pos) == 1 && pos[0] == "-":
		r = a.stdin
	case len(pos) == 1 && strings.HasPrefix(pos[0], "@"):
		f, err := os.Open(pos[0][1:])
		if err != nil {
			return "", usagef("cannot read %s: %v", pos[0][1:], errNoPath(err))
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			size = st.Size()
		}
		r = f
	case len(pos) == 1:
		return pos[0], nil
	case !a.stdinIsTTY:
		r = a.stdin
	default:
		return "", usagef("nothing to decode: pass INPUT, pipe it in, or use - and paste (end with Ctrl-D)")
	}
	if f, ok := r.(*os.File); ok && size < 0 {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			size = st.Size() // stdin redirected from a file
		}
	}
	tooLarge := usagef("input is larger than %d MiB; paste the cookie header, not a whole capture", maxInput>>20)
	if size > maxInput {
		return "", tooLarge
	}
	// The input is held once, in the string decode works on: read into it
	// directly when the size is known, else in 1 MiB pieces joined once at
	// the end. Reading into a growing []byte and converting it kept three
	// copies of a 15 MB paste alive at the peak.
	var b strings.Builder
	lr := io.LimitReader(r, maxInput+1)
	if size >= 0 {
		b.Grow(int(size) + 1)
		if _, err := io.Copy(&b, lr); err != nil {
			return "", usagef("cannot read input: %v", err)
		}
	} else {
		var pieces [][]byte
		total := 0
		for {
			buf := make([]byte, 1<<20)
			n, err := io.ReadFull(lr, buf)
			if n > 0 {
				pieces, total = append(pieces, buf[:n]), total+n
			}
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				break
			}
			if err != nil {
				return "", usagef("cannot read input: %v", err)
			}
		}
		b.Grow(total)
		for _, p := range pieces {
			b.Write(p)
		}
		if len(pieces) > 1 {
			// The pieces and their copy were alive together, and the
			// collector paces itself on that: one collection now, with
			// only the copy alive (the pieces are dead from here on),
			// keeps decode's peak near twice the input instead of four
			// times.
			runtime.GC()
		}
	}
	if b.Len() > maxInput {
		return "", tooLarge
	}
	return b.String(), nil
}

// errNoPath drops the path from an *os.PathError, which the message
// already names.
func errNoPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// writeDecodeText prints the decode report as the console's inspector
// shows it: one set of lines (report.Decode), laid out for 80 columns.
func writeDecodeText(w io.Writer, color bool, rep probe.DecodeReport, o report.DecodeOptions) error {
	return report.Text(w, report.Decode(rep, o), report.TextOptions{Color: color, Width: 80})
}

// tokenLooker looks tokens up in db's session table, for
// (*probe.DecodeReport).LookupTokens.
func tokenLooker(db *database.DB, schema *database.Schema) probe.TokenLooker {
	return probe.TokenLookerFunc(func(ctx context.Context, token, source string) (probe.TokenLookup, finding.List, error) {
		row, fs, err := db.LookupToken(ctx, schema, token, source)
		return probe.TokenLookup(row), fs, err
	})
}

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
	"github.com/authtui/authtui/internal/probe/textsafe"
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
	secrets := probe.CheckSecrets(sources)
	if baseURL == "" {
		for _, s := range secrets.Sources {
			if s.BaseURL != "" {
				baseURL = strings.TrimSpace(s.BaseURL)
				break
			}
		}
	}
	rep := probe.Decode(input, probe.DecodeOptions{
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
	rep.Database = lookupTokens(a, &d, sources, &rep)
	if c.json {
		return exitFor(rep.Findings), writeJSON(a.stdout, rep)
	}
	writeDecodeText(a.stdout, newStyle(c.colors(a)), rep)
	return exitFor(rep.Findings), nil
}

// lookupTokens checks the decoded tokens against the database when one is
// configured, and says in one phrase what happened.
func lookupTokens(a *app, d *dbFlags, sources []probe.Source, rep *probe.DecodeReport) string {
	url := d.resolveURL(a, sources)
	if url == "" {
		return "not configured"
	}
	hasToken := false
	for _, c := range rep.Cookies {
		hasToken = hasToken || c.Token() != ""
	}
	if !hasToken {
		return "no token to look up"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*d.timeout)
	defer cancel()
	db, err := database.Open(ctx, d.options(url))
	if err != nil {
		ce := asConnectError(err)
		rep.Findings.Add(finding.DBUnreachable, "", "tokens not looked up: cannot connect to the database (%s): %s", ce.Class, ce.Message)
		return "unreachable"
	}
	defer db.Close()
	schema, fs, err := db.DetectSchema(ctx)
	rep.Findings = append(rep.Findings, fs...)
	if err != nil || schema.Session == nil {
		return "no session table"
	}
	if err := rep.LookupTokens(ctx, tokenLooker(db, schema)); err != nil {
		fmt.Fprintf(a.stderr, "authtui decode: %s\n", textsafe.Safe(err.Error()))
		return "lookup failed"
	}
	return "checked"
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

func writeDecodeText(w io.Writer, st style, rep probe.DecodeReport) {
	var cands []string
	for _, c := range rep.Candidates {
		cands = append(cands, fmt.Sprintf("%s [%s]", textsafe.Clean(c.String()), c.Fingerprint()))
	}
	fmt.Fprintf(w, "%sCandidate secrets%s (%d): %s\n\n", st.bold, st.reset, len(rep.Candidates), strings.Join(cands, ", "))
	if shown := rep.Shown(); shown != "" {
		fmt.Fprintf(w, "%s%s%s\n\n", st.bold, shown, st.reset)
	}
	for _, c := range rep.Cookies {
		name := c.Name
		if name == "" {
			name = "(unnamed)"
		}
		fmt.Fprintf(w, "%s%s%s  %s  %s(%s, %d bytes)%s\n", st.bold, textsafe.Truncate(name, 60), st.reset, c.Kind, st.dim, textsafe.Safe(c.From), c.Size, st.reset)
		if c.TokenPrefix != "" {
			enc := ""
			if c.Encoding != "" && c.Encoding != "plain" {
				enc = " (" + c.Encoding + ")"
			}
			fmt.Fprintf(w, "  token      %s%s\n", textsafe.Clean(c.TokenPrefix), enc)
		}
		if c.Problem != "" && c.Cache == nil {
			fmt.Fprintf(w, "  problem    %s%s%s\n", st.red, textsafe.Safe(c.Problem), st.reset)
		}
		if c.Signature != "" {
			fmt.Fprintf(w, "  signature  %s\n", signatureLine(st, c))
		}
		if ch := c.Cache; ch != nil {
			line := ch.Strategy
			if ch.Chunks > 0 {
				line += fmt.Sprintf(", %d chunks", ch.Chunks)
			}
			if !ch.ExpiresAt.IsZero() {
				rel := "expires"
				if ch.Expired {
					rel = st.yellow + "expired" + st.reset
				}
				line += fmt.Sprintf(", %s %s", rel, ch.ExpiresAt.Local().Format("2006-01-02 15:04:05"))
			}
			if ch.KeyID != "" {
				k := "unknown key"
				if ch.KeyIDLabel != "" {
					k = "key of " + textsafe.Clean(ch.KeyIDLabel)
				}
				line += ", kid " + k
			}
			fmt.Fprintf(w, "  cache      %s\n", line)
			if ct := ch.Contents; ct != nil {
				fmt.Fprintf(w, "  session    %s  user %s %s  token %s\n", textsafe.Truncate(ct.SessionID, 40), textsafe.Truncate(ct.UserID, 40), textsafe.Truncate(ct.Email, 60), textsafe.Clean(ct.TokenPrefix))
			}
			if ch.Problem != "" {
				fmt.Fprintf(w, "  problem    %s%s%s\n", st.red, textsafe.Safe(ch.Problem), st.reset)
			}
		}
		if sc := c.SetCookie; sc != nil {
			fmt.Fprintf(w, "  attributes %s\n", attrLine(sc))
		}
		if r := c.SessionRow; r != nil {
			switch {
			case !r.Found:
				fmt.Fprintf(w, "  database   %sno session row%s\n", st.red, st.reset)
			case r.Expired:
				fmt.Fprintf(w, "  database   session %s %sexpired%s %s\n", textsafe.Clean(r.SessionID), st.red, st.reset, r.ExpiresAt.Local().Format(time.DateTime))
			case !r.UserExists:
				fmt.Fprintf(w, "  database   session %s, %suser %s missing%s\n", textsafe.Clean(r.SessionID), st.red, textsafe.Clean(r.UserID), st.reset)
			default:
				fmt.Fprintf(w, "  database   session %s of %s, %svalid%s until %s\n", textsafe.Clean(r.SessionID), textsafe.Clean(r.Email), st.green, st.reset, r.ExpiresAt.Local().Format(time.DateTime))
			}
		}
		fmt.Fprintln(w)
	}
	if rep.Database != "checked" && rep.Database != "no token to look up" {
		fmt.Fprintf(w, "%sDatabase: %s; tokens were not looked up (--database-url or DATABASE_URL).%s\n\n", st.dim, rep.Database, st.reset)
	}
	if len(rep.Ignored) > 0 {
		fmt.Fprintf(w, "%sIgnored: %s%s\n\n", st.dim, textsafe.Truncate(textsafe.Redact(strings.Join(rep.Ignored, "; ")), 300), st.reset)
	}
	writeFindings(w, st, rep.Findings)
}

func signatureLine(st style, c probe.CookieReport) string {
	var parts []string
	for _, m := range c.Matches {
		s := textsafe.Clean(m.Label)
		if m.Version != "" {
			s += " v" + textsafe.Clean(m.Version)
		}
		if m.Role != probe.RoleCurrent && m.Role != probe.RoleDefault {
			s += fmt.Sprintf(" (%s, %s)", m.Variable, m.Role)
		}
		parts = append(parts, s)
	}
	switch c.Signature {
	case "valid":
		return st.green + "valid" + st.reset + ", verified by " + strings.Join(parts, ", ")
	case "malformed":
		return st.red + "malformed" + st.reset
	default:
		if len(parts) > 0 {
			return st.red + "invalid" + st.reset + " for every server as configured; matches only " + strings.Join(parts, ", ")
		}
		return st.red + "invalid" + st.reset + ": no candidate secret verifies it"
	}
}

func attrLine(sc *probe.SetCookieReport) string {
	var parts []string
	ss := sc.SameSite
	if ss == "" {
		ss = "(unset → Lax)"
	}
	parts = append(parts, "SameSite="+textsafe.Clean(ss))
	if sc.Secure {
		parts = append(parts, "Secure")
	}
	if sc.HTTPOnly {
		parts = append(parts, "HttpOnly")
	}
	if sc.Domain != "" {
		parts = append(parts, "Domain="+textsafe.Safe(sc.Domain))
	}
	if sc.Path != "" {
		parts = append(parts, "Path="+textsafe.Safe(sc.Path))
	}
	if sc.MaxAge != nil {
		parts = append(parts, fmt.Sprintf("Max-Age=%d (%s)", *sc.MaxAge, time.Duration(*sc.MaxAge)*time.Second))
	} else if !sc.Expires.IsZero() {
		parts = append(parts, "Expires="+sc.Expires.Format(time.RFC1123))
	} else {
		parts = append(parts, "session cookie (no Max-Age)")
	}
	if sc.Cleared {
		parts = append(parts, "CLEARED")
	}
	return strings.Join(parts, "; ")
}

// tokenLooker looks tokens up in db's session table, for
// (*probe.DecodeReport).LookupTokens.
func tokenLooker(db *database.DB, schema *database.Schema) probe.TokenLooker {
	return probe.TokenLookerFunc(func(ctx context.Context, token, source string) (probe.TokenLookup, finding.List, error) {
		row, fs, err := db.LookupToken(ctx, schema, token, source)
		return probe.TokenLookup(row), fs, err
	})
}

package probe

import (
	"net/http"
	"strings"
	"unicode"
)

// ItemKind says how a piece of pasted input presented itself.
type ItemKind string

const (
	ItemCookie    ItemKind = "cookie"     // a name=value pair from a Cookie header, -b, or a DevTools row
	ItemSetCookie ItemKind = "set-cookie" // a whole Set-Cookie line
	ItemBearer    ItemKind = "bearer"     // Authorization: Bearer, or set-auth-token
	ItemBare      ItemKind = "bare"       // a value with no name
)

// InputItem is one credential found in pasted text, still raw (possibly
// URL-encoded): decoding and verification happen later.
type InputItem struct {
	Kind  ItemKind
	From  string // where it was found, for messages: "Cookie header", "Set-Cookie line 2", …
	Name  string
	Value string
	// For ItemSetCookie: the line as pasted, and net/http's reading of it
	// (nil when net/http rejects the line).
	Line      string
	SetCookie *http.Cookie
}

// ParsedInput is everything ParseInput understood of a paste.
type ParsedInput struct {
	Items   []InputItem
	URL     string   // the URL of a pasted curl command, if any
	Ignored []string // what was recognised but skipped, for the user
}

// headers that can carry a BetterAuth credential; everything else in a
// pasted request is ignored.
const (
	hdrCookie       = "cookie"
	hdrSetCookie    = "set-cookie"
	hdrAuthz        = "authorization"
	hdrSetAuthToken = "set-auth-token"
)

// ParseInput reads whatever a developer pastes: a bare value, name=value, a
// Cookie header, Set-Cookie lines, a curl command as browsers copy it,
// Authorization: Bearer, DevTools cookie-table rows, URL-encoded or not,
// with stray whitespace and line breaks. It never fails: what it cannot
// place it reports in Ignored. It runs in time linear in the input.
func ParseInput(s string) ParsedInput {
	var p ParsedInput
	s = strings.TrimPrefix(s, "\ufeff")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	trimmed := strings.TrimSpace(s)
	if trimmed == "" {
		return p
	}
	if isCurl(trimmed) {
		p.parseCurl(trimmed)
		return p
	}
	p.parseLines(trimmed)
	return p
}

func isCurl(s string) bool {
	return len(s) > 5 && strings.EqualFold(s[:4], "curl") && unicode.IsSpace(rune(s[4]))
}

func (p *ParsedInput) parseLines(s string) {
	lines := strings.Split(s, "\n")
	// A value the terminal wrapped over several lines carries no header,
	// pair or row anywhere: glue it back together.
	structured := false
	for _, l := range lines {
		if lineShape(strings.TrimSpace(l)) != shapeBare {
			structured = true
			break
		}
	}
	if !structured {
		joined := strings.Join(strings.Fields(s), "")
		if v, ok := cutBearer(strings.TrimSpace(s)); ok {
			joined = strings.Join(strings.Fields(v), "")
			p.Items = append(p.Items, InputItem{Kind: ItemBearer, From: "bearer token", Value: joined})
			return
		}
		p.Items = append(p.Items, InputItem{Kind: ItemBare, From: "bare value", Value: joined})
		return
	}
	setCookieN := 0
	// Continuation lines are collected and glued on once, when the item
	// ends: appending line by line would copy (and reparse) the growing
	// value each time, quadratic in a long paste.
	var pending []string
	flush := func() {
		if len(pending) == 0 || len(p.Items) == 0 {
			pending = pending[:0]
			return
		}
		last := &p.Items[len(p.Items)-1]
		more := strings.Join(pending, "")
		pending = pending[:0]
		if last.Kind == ItemSetCookie {
			last.Line += more
			last.SetCookie = parseSetCookie(last.Line)
			if last.SetCookie != nil {
				last.Name, last.Value = last.SetCookie.Name, last.SetCookie.Value
			} else {
				last.Value += more
			}
			return
		}
		last.Value += more
	}
	for _, raw := range lines {
		line := strings.TrimSpace(raw)
		if line == "" {
			continue
		}
		shape := lineShape(line)
		// Folded header continuation, or a wrapped value: it belongs to
		// the previous item when it is nothing on its own.
		if len(p.Items) > 0 && shape == shapeBare && !strings.HasPrefix(line, "Bearer ") && !strings.ContainsAny(line, " \t") {
			pending = append(pending, line)
			continue
		}
		flush()
		switch shape {
		case shapeHeader:
			if strings.HasPrefix(line, ":") { // HTTP/2 pseudo-header as DevTools shows it
				name, _, _ := strings.Cut(line[1:], ":")
				p.Ignored = append(p.Ignored, "header :"+name)
				continue
			}
			name, value, _ := strings.Cut(line, ":")
			if strings.EqualFold(strings.TrimSpace(name), hdrSetCookie) {
				setCookieN++
			}
			p.addHeader(strings.TrimSpace(name), strings.TrimSpace(value), setCookieN)
		case shapeRow:
			fields := strings.Split(raw, "\t")
			name := strings.TrimSpace(fields[0])
			if strings.EqualFold(name, "name") && len(fields) > 1 && strings.EqualFold(strings.TrimSpace(fields[1]), "value") {
				continue // the table's header row
			}
			value := ""
			if len(fields) > 1 {
				value = strings.TrimSpace(fields[1])
			}
			p.Items = append(p.Items, InputItem{Kind: ItemCookie, From: "DevTools row", Name: name, Value: value})
		case shapePairs:
			if looksLikeSetCookie(line) {
				setCookieN++
				p.addSetCookie(line, setCookieN)
			} else {
				p.addCookiePairs(line, "Cookie header")
			}
		default:
			if v, ok := cutBearer(line); ok {
				p.Items = append(p.Items, InputItem{Kind: ItemBearer, From: "bearer token", Value: strings.TrimSpace(v)})
			} else if strings.ContainsAny(line, " \t") {
				// No credential has spaces: a request or status line, or prose.
				// Its text is not echoed: it could be anything the user had.
				p.Ignored = append(p.Ignored, "a line with spaces (request line, status line or text)")
			} else {
				p.Items = append(p.Items, InputItem{Kind: ItemBare, From: "bare value", Value: line})
			}
		}
	}
	flush()
}

type shape int

const (
	shapeBare shape = iota
	shapeHeader
	shapeRow
	shapePairs
)

func lineShape(line string) shape {
	if line == "" {
		return shapeBare
	}
	if strings.Contains(line, "\t") {
		return shapeRow
	}
	if name, _, ok := strings.Cut(strings.TrimPrefix(line, ":"), ":"); ok && isHeaderName(name) {
		return shapeHeader
	}
	if name, value, ok := strings.Cut(line, "="); ok && isCookieName(strings.TrimSpace(name)) && strings.Trim(value, "=") != "" {
		return shapePairs
	}
	return shapeBare
}

// isHeaderName accepts HTTP token characters, but not the ones base64 and
// JWTs are made of alone, so a bare value is never taken for a header.
func isHeaderName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '-' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// isCookieName is RFC 6265's token, minus nothing: names like
// "__Secure-better-auth.session_token.0" pass.
func isCookieName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}

var setCookieAttrs = map[string]bool{
	"path": true, "domain": true, "expires": true, "max-age": true, "secure": true,
	"httponly": true, "samesite": true, "partitioned": true, "priority": true,
}

// looksLikeSetCookie tells "a=b; Path=/; HttpOnly" from "a=b; c=d": every
// part after the first must be a cookie attribute.
func looksLikeSetCookie(line string) bool {
	parts := strings.Split(line, ";")
	if len(parts) < 2 {
		return false
	}
	for _, part := range parts[1:] {
		name, _, _ := strings.Cut(strings.TrimSpace(part), "=")
		if name == "" {
			continue
		}
		if !setCookieAttrs[strings.ToLower(strings.TrimSpace(name))] {
			return false
		}
	}
	return true
}

func cutBearer(s string) (string, bool) {
	if len(s) > 7 && strings.EqualFold(s[:7], "bearer ") {
		return s[7:], true
	}
	return "", false
}

func (p *ParsedInput) addHeader(name, value string, setCookieN int) {
	switch strings.ToLower(name) {
	case hdrCookie:
		p.addCookiePairs(value, "Cookie header")
	case hdrSetCookie:
		p.addSetCookie(value, setCookieN)
	case hdrAuthz:
		if v, ok := cutBearer(value); ok {
			p.Items = append(p.Items, InputItem{Kind: ItemBearer, From: "Authorization header", Value: strings.TrimSpace(v)})
		} else {
			p.Ignored = append(p.Ignored, "an Authorization header that is not a Bearer token")
		}
	case hdrSetAuthToken:
		p.Items = append(p.Items, InputItem{Kind: ItemBearer, From: "set-auth-token header", Value: value})
	default:
		p.Ignored = append(p.Ignored, "header "+strings.ToLower(name))
	}
}

// addCookiePairs splits a Cookie header leniently. http.ParseCookie rejects
// the whole header for one bad pair; a debugger has to show the good ones
// and say which one is bad.
func (p *ParsedInput) addCookiePairs(header, from string) {
	for _, part := range strings.Split(header, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			p.Items = append(p.Items, InputItem{Kind: ItemBare, From: from, Value: part})
			continue
		}
		p.Items = append(p.Items, InputItem{Kind: ItemCookie, From: from, Name: strings.TrimSpace(name), Value: strings.TrimSpace(value)})
	}
}

func (p *ParsedInput) addSetCookie(line string, n int) {
	item := InputItem{Kind: ItemSetCookie, From: "Set-Cookie line " + itoa(n), Line: line}
	if c := parseSetCookie(line); c != nil {
		item.SetCookie = c
		item.Name, item.Value = c.Name, c.Value
	} else {
		first, _, _ := strings.Cut(line, ";")
		name, value, _ := strings.Cut(first, "=")
		item.Name, item.Value = strings.TrimSpace(name), strings.TrimSpace(value)
	}
	p.Items = append(p.Items, item)
}

func parseSetCookie(line string) *http.Cookie {
	c, err := http.ParseSetCookie(line)
	if err != nil {
		return nil
	}
	return c
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// parseCurl pulls cookies and credentials out of a curl command line as
// Chrome, Firefox and Safari copy it (bash quoting, $'…' strings, line
// continuations).
func (p *ParsedInput) parseCurl(s string) {
	args := shellWords(s)
	setCookieN := 0
	for i := 1; i < len(args); i++ {
		a := args[i]
		next := func() (string, bool) {
			if i+1 < len(args) {
				i++
				return args[i], true
			}
			return "", false
		}
		switch {
		case a == "-H" || a == "--header":
			if h, ok := next(); ok {
				name, value, found := strings.Cut(h, ":")
				if found {
					if strings.EqualFold(strings.TrimSpace(name), hdrSetCookie) {
						setCookieN++
					}
					p.addHeader(strings.TrimSpace(name), strings.TrimSpace(value), setCookieN)
				}
			}
		case strings.HasPrefix(a, "-H") && len(a) > 2:
			if name, value, found := strings.Cut(a[2:], ":"); found {
				p.addHeader(strings.TrimSpace(name), strings.TrimSpace(value), setCookieN)
			}
		case a == "-b" || a == "--cookie":
			if v, ok := next(); ok {
				if strings.Contains(v, "=") {
					p.addCookiePairs(v, "curl -b")
				} else {
					p.Ignored = append(p.Ignored, "curl -b "+v+" (a cookie file; paste its contents instead)")
				}
			}
		case a == "--url":
			if v, ok := next(); ok {
				p.URL = v
			}
		case strings.HasPrefix(a, "-"):
			// Options with a value we do not need: skip the value so it is not
			// mistaken for the URL.
			if curlTakesValue[a] {
				next()
			}
		default:
			if p.URL == "" {
				p.URL = a
			}
		}
	}
}

var curlTakesValue = map[string]bool{
	"-X": true, "--request": true, "-d": true, "--data": true, "--data-raw": true,
	"--data-binary": true, "--data-urlencode": true, "-A": true, "--user-agent": true,
	"-e": true, "--referer": true, "-u": true, "--user": true, "-o": true, "--output": true,
	"-m": true, "--max-time": true, "--connect-timeout": true, "-x": true, "--proxy": true,
	"-F": true, "--form": true,
}

// shellWords splits a command line the way bash would for the quoting that
// browsers emit: '…', "…" with backslash escapes, $'…' with C escapes, and
// backslash-newline (or cmd.exe's caret-newline) continuations.
func shellWords(s string) []string {
	var (
		words []string
		cur   strings.Builder
		in    bool
	)
	flush := func() {
		if in {
			words = append(words, cur.String())
			cur.Reset()
			in = false
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case (c == '\\' || c == '^') && i+1 < len(s) && s[i+1] == '\n':
			i++ // continuation
		case c == ' ' || c == '\t' || c == '\n':
			flush()
		case c == '\'':
			in = true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				cur.WriteString(s[i+1:])
				i = len(s)
			} else {
				cur.WriteString(s[i+1 : i+1+j])
				i += j + 1
			}
		case c == '$' && i+1 < len(s) && s[i+1] == '\'':
			in = true
			i += 2
			for ; i < len(s) && s[i] != '\''; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
					switch s[i] {
					case 'n':
						cur.WriteByte('\n')
					case 't':
						cur.WriteByte('\t')
					case 'r':
						cur.WriteByte('\r')
					default:
						cur.WriteByte(s[i])
					}
					continue
				}
				cur.WriteByte(s[i])
			}
		case c == '"':
			in = true
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`\n", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
		case c == '\\' && i+1 < len(s):
			in = true
			i++
			cur.WriteByte(s[i])
		default:
			in = true
			cur.WriteByte(c)
		}
	}
	flush()
	return words
}

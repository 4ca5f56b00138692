package probe

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
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
	URL     string   // the URL of a pasted curl command, if any, as pasted: show it only through textsafe.URL
	Ignored []string // what was recognised but skipped, for the user
	// Problem says why the paste could not be read whole (a curl command
	// with an unterminated quote); only what precedes the problem was
	// read. It never quotes the paste.
	Problem string

	// sink, when set, receives each item once it is complete instead of
	// Items, which then holds only the item still being read (a folded
	// line may extend it): a 15 MB paste of small cookies is decoded
	// without holding an item for each.
	sink func(InputItem)
	// ignoredMore counts the distinct notes beyond maxIgnoredNotes.
	ignoredMore int
}

// maxIgnoredNotes bounds the distinct notes of what was skipped: a paste
// of a million header lines needs none of them twice.
const maxIgnoredNotes = 64

// ignore notes something skipped, once.
func (p *ParsedInput) ignore(note string) {
	if slices.Contains(p.Ignored, note) {
		return
	}
	if len(p.Ignored) >= maxIgnoredNotes {
		p.ignoredMore++
		return
	}
	p.Ignored = append(p.Ignored, note)
}

// dropSpace removes every space and line break (a value wrapped by the
// terminal), in one copy.
func dropSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// push adds an item; in streaming mode the previous one is complete now.
func (p *ParsedInput) push(it InputItem) {
	if p.sink != nil && len(p.Items) > 0 {
		p.sink(p.Items[0])
		p.Items = p.Items[:0]
	}
	p.Items = append(p.Items, it)
}

// finish hands the last item to the sink.
func (p *ParsedInput) finish() {
	if p.sink != nil && len(p.Items) > 0 {
		p.sink(p.Items[0])
		p.Items = nil
	}
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
	return parseInput(s, nil)
}

// ParseInputFunc is ParseInput handing each item to fn, in order, as soon
// as it is complete; the result's Items is empty. Memory stays bounded by
// the largest item, not by the number of items.
func ParseInputFunc(s string, fn func(InputItem)) ParsedInput {
	return parseInput(s, fn)
}

func parseInput(s string, sink func(InputItem)) ParsedInput {
	p := ParsedInput{sink: sink}
	p.parse(s)
	p.finish()
	p.sink = nil
	return p
}

func (p *ParsedInput) parse(s string) {
	s = strings.TrimPrefix(s, "\ufeff")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	trimmed := strings.TrimSpace(s)
	switch {
	case trimmed == "":
	case isCurl(trimmed):
		p.parseCurl(trimmed)
	default:
		p.parseLines(trimmed)
	}
}

func isCurl(s string) bool {
	return len(s) > 5 && strings.EqualFold(s[:4], "curl") && unicode.IsSpace(rune(s[4]))
}

func (p *ParsedInput) parseLines(s string) {
	// Lines are walked, not split into a slice: a 15 MB paste of short
	// lines would hold two million strings at once.
	//
	// A value the terminal wrapped over several lines carries no header,
	// pair or row anywhere: glue it back together.
	structured := false
	for l := range strings.Lines(s) {
		if lineShape(strings.TrimSpace(l)) != shapeBare {
			structured = true
			break
		}
	}
	if !structured {
		if v, ok := cutBearer(strings.TrimSpace(s)); ok {
			p.push(InputItem{Kind: ItemBearer, From: "bearer token", Value: dropSpace(v)})
			return
		}
		p.push(InputItem{Kind: ItemBare, From: "bare value", Value: dropSpace(s)})
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
	for raw := range strings.Lines(s) {
		raw = strings.TrimSuffix(raw, "\n")
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
				p.ignore("header :" + name)
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
			p.push(InputItem{Kind: ItemCookie, From: "DevTools row", Name: name, Value: value})
		case shapePairs:
			if looksLikeSetCookie(line) {
				setCookieN++
				p.addSetCookie(line, setCookieN)
			} else {
				p.addCookiePairs(line, "Cookie header")
			}
		default:
			if v, ok := cutBearer(line); ok {
				p.push(InputItem{Kind: ItemBearer, From: "bearer token", Value: strings.TrimSpace(v)})
			} else if strings.ContainsAny(line, " \t") {
				// No credential has spaces: a request or status line, or prose.
				// Its text is not echoed: it could be anything the user had.
				p.ignore("a line with spaces (request line, status line or text)")
			} else {
				p.push(InputItem{Kind: ItemBare, From: "bare value", Value: line})
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
			p.push(InputItem{Kind: ItemBearer, From: "Authorization header", Value: strings.TrimSpace(v)})
		} else {
			p.ignore("an Authorization header that is not a Bearer token")
		}
	case hdrSetAuthToken:
		p.push(InputItem{Kind: ItemBearer, From: "set-auth-token header", Value: value})
	default:
		p.ignore("header " + strings.ToLower(name))
	}
}

// addCookiePairs splits a Cookie header leniently. http.ParseCookie rejects
// the whole header for one bad pair; a debugger has to show the good ones
// and say which one is bad.
func (p *ParsedInput) addCookiePairs(header, from string) {
	// One item per pair, sized once: a 15 MB header of small cookies
	// would otherwise copy the growing item slice over and over.
	if n := strings.Count(header, ";") + 1; n > 16 && p.sink == nil {
		p.Items = slices.Grow(p.Items, n)
	}
	for rest, more := header, true; more; {
		var part string
		part, rest, more = strings.Cut(rest, ";")
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			p.push(InputItem{Kind: ItemBare, From: from, Value: part})
			continue
		}
		p.push(InputItem{Kind: ItemCookie, From: from, Name: strings.TrimSpace(name), Value: strings.TrimSpace(value)})
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
	p.push(item)
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
	args, problem := shellWords(s)
	if problem != "" {
		// Only the words before the open quote are read: the rest of the
		// paste is one unterminated word that may hold anything (a signed
		// cookie, a password), so it is neither parsed nor quoted.
		p.Problem = "the curl command has " + problem + "; only what precedes it was read. Copy the command again, whole"
	}
	setCookieN := 0
	var positional []string
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
					// Not echoed: a lone token passed to -b is a credential,
					// not a file name.
					p.ignore("curl -b without name=value (a cookie file; paste its contents instead)")
				}
			}
		case a == "--oauth2-bearer":
			if v, ok := next(); ok {
				p.push(InputItem{Kind: ItemBearer, From: "curl --oauth2-bearer", Value: strings.TrimSpace(v)})
			}
		case a == "--url":
			if v, ok := next(); ok {
				positional = append([]string{v}, positional...)
			}
		case strings.HasPrefix(a, "-"):
			// Options with a value we do not need: skip the value so it is not
			// mistaken for the URL.
			if curlTakesValue[a] {
				next()
			}
		default:
			positional = append(positional, a)
		}
	}
	// The URL is the first word that names a scheme, else the first
	// positional word: the value of an option curlTakesValue does not know
	// (a token, a password) is then at least not preferred over the URL.
	for _, w := range positional {
		if strings.Contains(w, "://") {
			p.URL = w
			return
		}
	}
	if len(positional) > 0 {
		p.URL = positional[0]
	}
}

var curlTakesValue = map[string]bool{
	"-X": true, "--request": true, "-d": true, "--data": true, "--data-raw": true,
	"--data-binary": true, "--data-urlencode": true, "--data-ascii": true, "--json": true,
	"-A": true, "--user-agent": true, "-e": true, "--referer": true, "-u": true, "--user": true,
	"-U": true, "--proxy-user": true, "--pass": true, "--aws-sigv4": true,
	"-o": true, "--output": true, "-c": true, "--cookie-jar": true, "-w": true, "--write-out": true,
	"-m": true, "--max-time": true, "--connect-timeout": true, "-x": true, "--proxy": true,
	"-F": true, "--form": true, "--resolve": true, "--connect-to": true, "-E": true, "--cert": true,
	"--key": true, "--cacert": true, "-K": true, "--config": true, "-T": true, "--upload-file": true,
	"-r": true, "--range": true, "--retry": true, "--max-redirs": true, "--interface": true,
}

func isWordBreak(c byte) bool { return c == ' ' || c == '\t' || c == '\n' }

// shellWords splits a command line the way bash would for the quoting that
// browsers emit: '…', "…" with backslash escapes, $'…' with C escapes, and
// backslash-newline (or cmd.exe's caret-newline) continuations. A quote
// that is never closed ends the split: problem says so (with where the
// quote opened, never what follows it), and the unfinished word is dropped.
func shellWords(s string) (words []string, problem string) {
	var (
		cur strings.Builder
		in  bool
	)
	flush := func() {
		if in {
			words = append(words, cur.String())
			cur.Reset()
			in = false
		}
	}
	unterminated := func(quote string, at int) {
		problem = fmt.Sprintf("an unterminated %s quote (opened at character %d)", quote, utf8.RuneCountInString(s[:at])+1)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case (c == '\\' || c == '^') && i+1 < len(s) && s[i+1] == '\n':
			i++ // continuation
		case isWordBreak(c):
			flush()
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				unterminated("'", i)
				return words, problem
			}
			if end := i + j + 2; !in && (end == len(s) || isWordBreak(s[end])) {
				// A whole word in quotes, as browsers quote every word: the
				// paste itself, not a copy (a 15 MB header stays 15 MB).
				words = append(words, s[i+1:i+1+j])
				i += j + 1
				continue
			}
			in = true
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case c == '$' && i+1 < len(s) && s[i+1] == '\'':
			open := i
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
			if i >= len(s) {
				unterminated("$'", open)
				return words, problem
			}
		case c == '"':
			open := i
			if j := strings.IndexAny(s[i+1:], `"\\`); j >= 0 && s[i+1+j] == '"' {
				if end := i + j + 2; !in && (end == len(s) || isWordBreak(s[end])) {
					words = append(words, s[i+1:i+1+j]) // as for '…' above
					i += j + 1
					continue
				}
			}
			in = true
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`\n", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				unterminated(`"`, open)
				return words, problem
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
	return words, ""
}

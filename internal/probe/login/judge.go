package login

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/authtui/authtui/internal/probe/textsafe"
)

// The judging functions below are the one place where an answer to a
// credential becomes Accepted or not. They are pure (status, header,
// body in; Outcome out) so that every step, the replay included, applies
// the same rule and the rule can be tested on bodies captured from the
// real server. Step and Via are left to the caller.

// bodyShape is what a 2xx body says about a session.
type bodyShape int

const (
	shapeEmpty       bodyShape = iota // no body at all
	shapeNull                         // the JSON literal null
	shapeEmptyObject                  // {}
	shapeNullSession                  // an object whose "session" or "user" is present and null
	shapeSession                      // an object whose "session" and "user" are both objects
	shapeRefusal                      // false, or an object that says no: {"error":…}, {"authenticated":false}
	shapeOtherJSON                    // any other JSON value
	shapeNotJSON                      // HTML, text, a truncated body
)

func classifyBody(body []byte) bodyShape {
	b := bytes.TrimSpace(body)
	switch {
	case len(b) == 0:
		return shapeEmpty
	case !json.Valid(b):
		return shapeNotJSON
	case string(b) == "null":
		return shapeNull
	case string(b) == "false":
		return shapeRefusal
	}
	var obj map[string]json.RawMessage
	if b[0] != '{' || json.Unmarshal(b, &obj) != nil {
		return shapeOtherJSON
	}
	if len(obj) == 0 {
		return shapeEmptyObject
	}
	sess, hasSess := obj["session"]
	user, hasUser := obj["user"]
	isNull := func(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }
	isObj := func(raw json.RawMessage) bool {
		t := bytes.TrimSpace(raw)
		return len(t) > 0 && t[0] == '{'
	}
	switch {
	case (hasSess && isNull(sess)) || (hasUser && isNull(user)):
		// getSession's own "no session" is null; a handler that wraps it
		// ({session: await getSession()}) turns that into a null field.
		return shapeNullSession
	case hasSess && hasUser && isObj(sess) && isObj(user):
		return shapeSession
	case !hasSess && !hasUser && refuses(obj):
		return shapeRefusal
	}
	return shapeOtherJSON
}

// refuses reports whether a JSON object says "not signed in" in one of
// the shapes handlers use when they answer 200 anyway: a non-null top
// level error or errors (GraphQL), or a false authenticated, loggedIn,
// success or ok.
func refuses(obj map[string]json.RawMessage) bool {
	for _, k := range []string{"error", "errors"} {
		if v, ok := obj[k]; ok {
			t := string(bytes.TrimSpace(v))
			if t != "null" && t != "false" && t != `""` && t != "[]" {
				return true
			}
		}
	}
	for _, k := range []string{"authenticated", "loggedIn", "logged_in", "success", "ok"} {
		if v, ok := obj[k]; ok && string(bytes.TrimSpace(v)) == "false" {
			return true
		}
	}
	return false
}

// JudgeGetSession judges BetterAuth's get-session answer to a credential.
// Only a session (both "session" and "user" objects) is acceptance:
// BetterAuth answers 200 null for a credential it does not accept, so a
// 200 alone proves nothing. A 2xx that is neither a session nor a null
// one did not come from get-session (a cached HTML page, another route).
func JudgeGetSession(status int, header http.Header, body []byte) Outcome {
	o := Outcome{HTTPStatus: status, Seen: Describe(status, header, body), Cleared: clearsSession(header)}
	switch {
	case status >= 500:
		o.Result = ServerError
	case status >= 300 && status < 500:
		o.Result = Rejected
	case status >= 200 && status < 300:
		switch classifyBody(body) {
		case shapeSession:
			o.Result = Accepted
		case shapeEmpty, shapeNull, shapeEmptyObject, shapeNullSession:
			o.Result = Rejected
		default:
			o.Result = NotSession
		}
	default:
		o.Result = NotSession
	}
	return o
}

// JudgeAPI judges the user's own API's answer to a credential. The API's
// body is its own, so any non-empty 2xx is acceptance, except the shapes
// a handler produces when it passes getSession's null through unchanged.
func JudgeAPI(status int, header http.Header, body []byte) Outcome {
	o := Outcome{HTTPStatus: status, Seen: Describe(status, header, body), Cleared: clearsSession(header)}
	switch {
	case status >= 500:
		o.Result = ServerError
	case status >= 200 && status < 300:
		switch classifyBody(body) {
		case shapeEmpty, shapeNull, shapeEmptyObject, shapeNullSession, shapeRefusal:
			o.Result = Rejected
		case shapeNotJSON:
			// An HTML page is what a middleware that rewrites to the
			// sign-in page answers: no evidence that the API accepted.
			o.Result = Accepted
			if isHTML(header, body) {
				o.Result = NotSession
			}
		default:
			o.Result = Accepted
		}
	default: // 3xx (a redirect to a sign-in page), 4xx, and anything odd
		o.Result = Rejected
	}
	return o
}

// nullAnswer reports whether a Rejected outcome was a 2xx whose body is
// a null session (as opposed to a status that refused it).
func nullAnswer(o Outcome) bool {
	return o.Result == Rejected && o.HTTPStatus >= 200 && o.HTTPStatus < 300
}

// clearsSession reports whether the answer expires the session cookie:
// get-session does that when the signature verified but no valid row was
// found. net/http encodes Max-Age=0 as a negative MaxAge.
func clearsSession(h http.Header) bool {
	for _, line := range h.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			l := strings.ToLower(line)
			if strings.Contains(l, "session_token=") && strings.Contains(l, "max-age=0") {
				return true
			}
			continue
		}
		if strings.HasSuffix(c.Name, "session_token") && (c.MaxAge < 0 || (!c.Expires.IsZero() && c.Expires.Before(time.Now()))) {
			return true
		}
	}
	return false
}

// Describe says in a few words what an answer was: "200 null",
// "401 {"error":"unauthorized"}", "302 → /sign-in", "200 text/html page".
// Credential-looking strings are cut to a prefix and nested JSON is
// elided, so a session body (which carries the token) never appears in
// full. The result may still hold control characters; renderers sanitise.
func Describe(status int, header http.Header, body []byte) string {
	s := strconv.Itoa(status)
	if status >= 300 && status < 400 {
		if loc := header.Get("Location"); loc != "" {
			return s + " → " + showLocation(loc)
		}
		return s + " redirect without a Location"
	}
	b := bytes.TrimSpace(body)
	switch {
	case len(b) == 0:
		return s + " (empty body)"
	case json.Valid(b):
		return s + " " + summarizeJSON(b)
	case isHTML(header, b):
		if title := htmlTitle(b); title != "" {
			return s + " text/html page " + jsonString(textsafe.Truncate(redactText(title), 60))
		}
		return s + " text/html page"
	}
	mt, _, _ := mime.ParseMediaType(header.Get("Content-Type"))
	if mt == "" {
		mt = "body"
	}
	return s + " " + mt + " " + jsonString(shorten(redactText(string(b[:min(len(b), 4096)])), 80))
}

// redactText joins the words of a text body on one line, cutting
// credential assignments and bare token-like words to a prefix.
func redactText(s string) string {
	words := strings.Fields(textsafe.RedactCredentials(s))
	for i, w := range words {
		if looksLikeToken(w) {
			words[i] = textsafe.TokenPrefix(w)
		}
	}
	return strings.Join(words, " ")
}

// showLocation shows a redirect target without its query and fragment:
// callback and verification links carry tokens there.
func showLocation(loc string) string {
	if u, err := url.Parse(loc); err == nil && u.Host != "" {
		return textsafe.Truncate(textsafe.URL(loc), 120)
	}
	cut := strings.IndexAny(loc, "?#")
	if cut >= 0 {
		loc = loc[:cut] + "?…"
	}
	return textsafe.Truncate(loc, 120)
}

func isHTML(h http.Header, b []byte) bool {
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if mt == "text/html" || mt == "application/xhtml+xml" {
		return true
	}
	head := strings.ToLower(string(b[:min(len(b), 64)]))
	return strings.HasPrefix(head, "<!doctype html") || strings.HasPrefix(head, "<html")
}

var titleRE = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)

// htmlTitle names the page (a CDN's "Just a moment...", an app's "Sign
// in") when it has a title.
func htmlTitle(b []byte) string {
	m := titleRE.FindSubmatch(b[:min(len(b), 16<<10)])
	if m == nil {
		return ""
	}
	return strings.Join(strings.Fields(string(m[1])), " ")
}

// credentialKey names the JSON fields whose values authenticate.
var credentialKey = regexp.MustCompile(`(?i)token|secret|password|jwt|cookie|authorization|signature|^key$`)

// tokenLike matches a string that could be a credential: long, no spaces,
// only the characters tokens, signatures and JWTs are made of.
var tokenLike = regexp.MustCompile(`^[A-Za-z0-9._~+/=%-]{20,}$`)

// errorCodeLike is BetterAuth's error-code shape (INVALID_ORIGIN,
// EMAIL_NOT_VERIFIED): upper case words, never a credential.
var errorCodeLike = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

func looksLikeToken(s string) bool { return tokenLike.MatchString(s) && !errorCodeLike.MatchString(s) }

// summarizeJSON renders the top level of a JSON value on one line,
// preserving key order; nested objects and arrays become {…} and […].
func summarizeJSON(b []byte) string {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return "(unreadable JSON)"
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			if dec.More() {
				return "[…]"
			}
			return "[]"
		}
	default:
		return scalar("", t)
	}
	var out strings.Builder
	out.WriteByte('{')
	for n := 0; dec.More(); n++ {
		kt, err := dec.Token()
		if err != nil {
			break
		}
		key, _ := kt.(string)
		if n == 6 || out.Len() > 140 {
			out.WriteString(",…")
			break
		}
		if n > 0 {
			out.WriteByte(',')
		}
		out.WriteString(jsonString(shorten(key, 30)) + ":")
		vt, err := dec.Token()
		if err != nil {
			break
		}
		if d, ok := vt.(json.Delim); ok {
			empty := !dec.More()
			if err := skipRest(dec); err != nil {
				break
			}
			switch {
			case d == '{' && empty:
				out.WriteString("{}")
			case d == '{':
				out.WriteString("{…}")
			case empty:
				out.WriteString("[]")
			default:
				out.WriteString("[…]")
			}
			continue
		}
		out.WriteString(scalar(key, vt))
	}
	out.WriteByte('}')
	return out.String()
}

// skipRest consumes the rest of an object or array whose opening
// delimiter was just read.
func skipRest(dec *json.Decoder) error {
	for depth := 1; depth > 0; {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := t.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return nil
}

func scalar(key string, v any) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(t)
	case json.Number:
		return shorten(t.String(), 20)
	case string:
		if credentialKey.MatchString(key) || looksLikeToken(t) {
			return jsonString(textsafe.TokenPrefix(t))
		}
		return jsonString(shorten(redactText(t), 60))
	}
	return "?"
}

// jsonString quotes s as JSON does, without escaping <, > and &.
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

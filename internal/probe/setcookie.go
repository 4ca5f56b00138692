package probe

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"

	"github.com/authtui/authtui/internal/probe/finding"
)

// maxCookieBytes is the name+value size browsers guarantee (RFC 6265 §6.1);
// Safari and Chrome drop larger cookies silently.
const maxCookieBytes = 4096

// SetCookieReport is the attribute analysis of one Set-Cookie line.
type SetCookieReport struct {
	SameSite    string    `json:"same_site"` // Lax, Strict, None, or "" when absent (browsers default to Lax)
	Secure      bool      `json:"secure"`
	HTTPOnly    bool      `json:"http_only"`
	Domain      string    `json:"domain,omitempty"`
	Path        string    `json:"path,omitempty"`
	MaxAge      *int      `json:"max_age,omitempty"`
	Expires     time.Time `json:"expires,omitzero"`
	Partitioned bool      `json:"partitioned,omitempty"`
	Cleared     bool      `json:"cleared"`
	Parsed      bool      `json:"parsed"` // false when net/http rejected the line
}

// SiteContext is what the Set-Cookie checks compare against: the URL of the
// auth service that set the cookie, and the front end that must send it.
type SiteContext struct {
	BaseURL *url.URL // nil when unknown
	Origin  *url.URL // nil when unknown
}

// NewSiteContext parses the two URLs; an empty or unparsable one is nil.
func NewSiteContext(baseURL, origin string) SiteContext {
	return SiteContext{BaseURL: parseHTTPURL(baseURL), Origin: parseHTTPURL(origin)}
}

func parseHTTPURL(s string) *url.URL {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil
	}
	return u
}

// LossFindings are the findings of AnalyzeSetCookie that predict a
// browser drops the cookie or does not send it to the front end (the
// browser probe and the verdict compare them with what Chrome did).
var LossFindings = []finding.ID{finding.SetCookieSameSiteNoneInsecure, finding.SetCookieSecureOverHTTP,
	finding.SetCookieCrossSite, finding.SetCookieDomainInvalid, finding.SetCookiePrefixInvalid}

// AnalyzeSetCookie checks one Set-Cookie line. kind is the cookie's
// BetterAuth kind, which decides whether an expiry means "cleared".
func AnalyzeSetCookie(item InputItem, kind string, site SiteContext, now time.Time) (SetCookieReport, finding.List) {
	var (
		rep SetCookieReport
		fs  finding.List
	)
	c := item.SetCookie
	// Names and attributes come from the paste: clipped, so that an absurd
	// one is not repeated in full in the report and every message.
	name := clipName(item.Name)
	if c == nil {
		// net/http refused it; read the attributes leniently ourselves so
		// that a bad value does not hide a bad attribute.
		c = lenientSetCookie(item.Line)
	} else {
		rep.Parsed = true
	}
	rep.Secure, rep.HTTPOnly, rep.Domain, rep.Path, rep.Partitioned = c.Secure, c.HttpOnly, clipName(strings.TrimPrefix(c.Domain, ".")), clipName(c.Path), c.Partitioned
	rep.SameSite = clipName(sameSiteName(c, item.Line))
	switch {
	case c.MaxAge > 0:
		v := c.MaxAge
		rep.MaxAge = &v
	case c.MaxAge < 0: // net/http's encoding of "Max-Age=0" (or negative)
		v := 0
		rep.MaxAge = &v
	}
	if !c.Expires.IsZero() {
		rep.Expires = c.Expires.UTC()
	}
	rep.Cleared = (rep.MaxAge != nil && *rep.MaxAge == 0) || (rep.MaxAge == nil && !rep.Expires.IsZero() && rep.Expires.Before(now))

	src := name
	if rep.SameSite == "None" && !rep.Secure {
		fs.Add(finding.SetCookieSameSiteNoneInsecure, src,
			"%s is SameSite=None without Secure: browsers reject it. Add Secure (and serve over https).", name)
	}
	base := site.BaseURL
	if rep.Secure && base != nil && base.Scheme == "http" && !IsLoopbackHost(base.Hostname()) {
		fs.Add(finding.SetCookieSecureOverHTTP, src,
			"%s is Secure but %s is http://: browsers drop Secure cookies set over http on a non-loopback host. Use https.", name, base.Host)
	}
	checkPrefixRules(&fs, name, rep)
	if rep.Domain != "" {
		checkDomain(&fs, name, rep.Domain, base)
	}
	if site.Origin != nil && base != nil {
		if cross, why := crossSite(site.Origin, base); cross {
			if rep.SameSite != "None" {
				ss := rep.SameSite
				if ss == "" {
					ss = "unset (Lax)"
				}
				fs.Add(finding.SetCookieCrossSite, src,
					"%s has SameSite=%s but the front end %s is cross-site to %s (%s): the browser will not send it. Use SameSite=None; Secure, or serve both from one site.",
					name, ss, site.Origin.Host, base.Host, why)
			} else if !rep.Partitioned {
				// A Partitioned (CHIPS) cookie is kept, in a jar of the
				// front end's site, even with third-party cookies blocked:
				// Chrome showed it (issue 10's browser probe found this
				// analysis wrong before).
				fs.Add(finding.SetCookieThirdParty, src,
					"%s is a cross-site SameSite=None cookie (%s): Safari and browsers that block third-party cookies drop it. Prefer a shared parent domain, or the bearer plugin.",
					name, why)
			}
		}
	}
	if rep.Cleared && kind == KindSessionToken {
		fs.Add(finding.SetCookieCleared, src,
			"the server expires %s: it accepted the signature but found no valid session row (deleted, expired, or another database). Check the session table.", name)
	}
	return rep, fs
}

func sameSiteName(c *http.Cookie, line string) string {
	switch c.SameSite {
	case http.SameSiteLaxMode:
		return "Lax"
	case http.SameSiteStrictMode:
		return "Strict"
	case http.SameSiteNoneMode:
		return "None"
	}
	// SameSiteDefaultMode means absent or unrecognised; say which.
	for _, part := range strings.Split(line, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		if strings.EqualFold(strings.TrimSpace(k), "samesite") {
			return "invalid(" + strings.TrimSpace(v) + ")"
		}
	}
	return ""
}

func checkPrefixRules(fs *finding.List, name string, rep SetCookieReport) {
	switch {
	case strings.HasPrefix(name, "__Secure-") && !rep.Secure:
		fs.Add(finding.SetCookiePrefixInvalid, name,
			"%s uses the __Secure- prefix without Secure: browsers reject it.", name)
	case strings.HasPrefix(name, "__Host-"):
		var why []string
		if !rep.Secure {
			why = append(why, "no Secure")
		}
		if rep.Domain != "" {
			why = append(why, "a Domain attribute")
		}
		if rep.Path != "/" {
			why = append(why, "Path is not /")
		}
		if len(why) > 0 {
			fs.Add(finding.SetCookiePrefixInvalid, name,
				"%s uses the __Host- prefix with %s: browsers reject it.", name, strings.Join(why, ", "))
		}
	}
}

func checkDomain(fs *finding.List, name, domain string, base *url.URL) {
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	if net.ParseIP(strings.Trim(domain, "[]")) != nil {
		fs.Add(finding.SetCookieDomainInvalid, name,
			"%s has Domain=%s, an IP address: browsers ignore the cookie. Drop Domain or use a host name.", name, domain)
		return
	}
	if ps, _ := publicsuffix.PublicSuffix(domain); ps == domain {
		fs.Add(finding.SetCookieDomainInvalid, name,
			"%s has Domain=%s, a public suffix: browsers reject it. Use your registrable domain (crossSubDomainCookies.domain).", name, domain)
		return
	}
	if base == nil {
		return
	}
	host := strings.ToLower(base.Hostname())
	if host != domain && !strings.HasSuffix(host, "."+domain) {
		fs.Add(finding.SetCookieDomainInvalid, name,
			"%s has Domain=%s, which does not cover %s, the host that sets it: browsers reject it.", name, domain, host)
	}
}

// CrossSite applies the browser's schemeful same-site rule: two URLs are
// same-site when scheme and registrable domain (public suffix list)
// match; ports never count. why says how they differ.
func CrossSite(a, b *url.URL) (cross bool, why string) { return crossSite(a, b) }

func crossSite(a, b *url.URL) (bool, string) {
	if !strings.EqualFold(a.Scheme, b.Scheme) {
		return true, fmt.Sprintf("%s vs %s", a.Scheme, b.Scheme)
	}
	ra, rb := site(a.Hostname()), site(b.Hostname())
	if ra != rb {
		return true, fmt.Sprintf("sites %s and %s differ", ra, rb)
	}
	return false, ""
}

func site(host string) string {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if net.ParseIP(host) != nil || host == "localhost" {
		return host
	}
	if s, err := publicsuffix.EffectiveTLDPlusOne(host); err == nil {
		return s
	}
	return host
}

// lenientSetCookie reads attributes from a line net/http refused (for a
// bad name or value), so the attribute checks still run.
func lenientSetCookie(line string) *http.Cookie {
	c := &http.Cookie{}
	parts := strings.Split(line, ";")
	for _, part := range parts[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		v = strings.TrimSpace(v)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "secure":
			c.Secure = true
		case "httponly":
			c.HttpOnly = true
		case "domain":
			c.Domain = v
		case "path":
			c.Path = v
		case "partitioned":
			c.Partitioned = true
		case "samesite":
			switch strings.ToLower(v) {
			case "lax":
				c.SameSite = http.SameSiteLaxMode
			case "strict":
				c.SameSite = http.SameSiteStrictMode
			case "none":
				c.SameSite = http.SameSiteNoneMode
			}
		case "max-age":
			var n int
			if _, err := fmt.Sscanf(v, "%d", &n); err == nil {
				if n <= 0 {
					c.MaxAge = -1
				} else {
					c.MaxAge = n
				}
			}
		case "expires":
			if t, err := http.ParseTime(v); err == nil {
				c.Expires = t
			}
		}
	}
	return c
}

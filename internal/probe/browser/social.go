package browser

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/authtui/authtui/internal/probe/textsafe"
)

// socialFlow runs BetterAuth's social sign-in in the page, as its client
// does: fetch sign-in/social with credentials (the state cookie is set on
// that answer), then a top-level navigation to the provider's
// authorization URL; the provider, BetterAuth's callback and the landing
// page follow as redirects Chrome takes itself. On the landing page the
// page asks get-session (and the API) with credentials.
func socialFlow(ctx context.Context, o Options, p *Pass) (pageOut, error) {
	var out pageOut
	start, err := chromedp.Run(ctx, chromedp.Evaluate[struct {
		SignIn int    `json:"signIn"`
		URL    string `json:"url"`
		Error  string `json:"error"`
	}](socialScript(o), chromedp.EvalAwaitPromise))
	if err != nil {
		return out, err
	}
	out.SignIn = start.SignIn
	if start.Error != "" {
		out.Error = start.Error
		return out, nil
	}
	if start.URL == "" {
		return out, nil // the sign-in's own answer says why (its status)
	}
	// A navigation that fails (the provider down) is an observation, not
	// a failed run: the hop carries Chrome's error.
	navErr := chromedp.Do(ctx, chromedp.Navigate(start.URL))
	loc, err := location(ctx)
	if err != nil {
		if navErr != nil {
			return out, navErr
		}
		return out, err
	}
	// The provider may show a page first (a person signs in, a consent
	// screen goes on by itself): wait until the window is back on the
	// auth service or the front end. A person at a visible window gets
	// Wait; a headless run the step timeout.
	if atProvider(loc, o) {
		limit := o.Timeout
		if o.Social.Headed {
			limit = o.Social.Wait
		}
		wait, cancel := context.WithTimeout(ctx, limit)
		for atProvider(loc, o) && wait.Err() == nil && !errorPage(wait) {
			select {
			case <-wait.Done():
			case <-time.After(200 * time.Millisecond):
			}
			if l, err := location(wait); err == nil {
				loc = l
			}
		}
		cancel()
		if !atProvider(loc, o) {
			// The landing page's load, then where it is.
			chromedp.Do(ctx, chromedp.WaitReady("body"))
			if l, err := location(ctx); err == nil {
				loc = l
			}
		}
	}
	p.AtProvider = atProvider(loc, o)
	p.Landed, p.CallbackError = landed(loc)
	if p.CallbackError != "" || !strings.HasPrefix(loc, o.Social.CallbackURL) {
		return out, nil
	}
	s, err := chromedp.Run(ctx, chromedp.Evaluate[pageOut](sessionOnlyScript(o), chromedp.EvalAwaitPromise))
	s.SignIn = out.SignIn
	return s, err
}

// errorPage says whether the provider's page is an error page: its
// answer was 4xx or 5xx (it will not go on by itself).
func errorPage(ctx context.Context) bool {
	st, err := chromedp.Run(ctx, chromedp.Evaluate[int]("(performance.getEntriesByType('navigation')[0] || {}).responseStatus || 0"))
	return err == nil && st >= 400
}

func location(ctx context.Context) (string, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[string]("location.href"))
}

// atProvider says whether the window is still away from the auth
// service and the front end.
func atProvider(loc string, o Options) bool {
	if strings.HasPrefix(loc, "chrome-error:") {
		return false // the navigation failed: its hop says why
	}
	return !strings.HasPrefix(loc, strings.TrimRight(o.BaseURL, "/")) && !strings.HasPrefix(loc, strings.TrimRight(o.Origin, "/"))
}

// landed is where the navigation ended, without its query (codes and
// states stay out of every output) but with the error code it carries.
func landed(loc string) (shown, code string) {
	if strings.HasPrefix(loc, "chrome-error:") {
		return "Chrome's error page (the navigation failed)", ""
	}
	u, err := url.Parse(loc)
	if err != nil {
		return textsafe.URL(loc), ""
	}
	code = textsafe.Truncate(u.Query().Get("error"), 80)
	shown = textsafe.URL(u.Scheme + "://" + u.Host + u.Path)
	if code != "" {
		shown += "?error=" + code
	}
	return shown, code
}

// socialScript starts the social sign-in from the page and returns the
// provider's authorization URL; the page does not navigate itself, so
// that the navigation is authtui's to wait for.
func socialScript(o Options) string {
	q, base := jsString, o.endpoints()
	return `(async () => {
  const out = {signIn: 0, url: "", error: ""};
  try {
    const r = await fetch(` + q(base+"/sign-in/social") + `, {method: "POST", credentials: "include",
      headers: {"content-type": "application/json"},
      body: JSON.stringify({provider: ` + q(o.Social.Provider) + `, callbackURL: ` + q(o.Social.CallbackURL) + `})});
    out.signIn = r.status;
    const j = await r.json().catch(() => ({}));
    out.url = (j && typeof j.url === "string") ? j.url : "";
  } catch (e) { out.error = "sign-in: " + e.message; }
  return out;
})()`
}

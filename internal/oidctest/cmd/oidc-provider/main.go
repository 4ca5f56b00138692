// Command oidc-provider runs internal/oidctest's OpenID Connect provider
// on loopback for the demo (scripts/demo.sh with DEMO_SOCIAL=1): it signs
// a user in without a person. It is not part of the authtui binary.
//
//	oidc-provider -env-out FILE [-addr 127.0.0.1:0] [-email demo@example.com] [-redirect-uri URI]...
//
// Once listening it writes FIXTURE_OIDC_ISSUER, FIXTURE_OIDC_CLIENT_ID
// and FIXTURE_OIDC_CLIENT_SECRET (the configuration of
// testdata/betterauth/auth.mjs) to FILE, mode 0600, prints
// "oidc-provider listening on ISSUER" and serves until SIGINT or SIGTERM.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/authtui/authtui/internal/oidctest"
)

type list []string

func (l *list) String() string     { return fmt.Sprint(*l) }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var (
		addr   = flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
		email  = flag.String("email", oidctest.DefaultEmail, "the user it signs in")
		envOut = flag.String("env-out", "", "write the FIXTURE_OIDC_* variables to this file")
		uris   list
	)
	flag.Var(&uris, "redirect-uri", "a registered redirect URI (repeatable; none: any)")
	flag.Parse()
	if *envOut == "" {
		fmt.Fprintln(os.Stderr, "oidc-provider: -env-out FILE is required")
		os.Exit(2)
	}
	p, err := oidctest.New(oidctest.Options{Addr: *addr, Email: *email, RedirectURIs: uris})
	if err != nil {
		fmt.Fprintln(os.Stderr, "oidc-provider:", err)
		os.Exit(1)
	}
	defer p.Stop()
	env := ""
	for _, kv := range p.Env() {
		env += kv + "\n"
	}
	if err := os.WriteFile(*envOut, []byte(env), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "oidc-provider:", err)
		os.Exit(1)
	}
	fmt.Println("oidc-provider listening on " + p.Issuer)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
}

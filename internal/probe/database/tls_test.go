package database

import (
	"strings"
	"testing"

	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/probe/finding"
)

// What the client checked of the certificate is said as it is: prefer
// and require encrypt to whoever answers, and only verify-full checks
// who that is.
func TestTLSVerification(t *testing.T) {
	dsn := pgtest.DSN(t)
	ca := pgtest.WithTLS(t, dsn)
	mode := func(q string) string { return strings.Replace(dsn, "sslmode=disable", q, 1) }
	for _, tc := range []struct {
		name, url, verify string
		tls               bool
	}{
		{"disable", dsn, "", false},
		{"prefer", mode("sslmode=prefer"), TLSVerifyNone, true},
		{"libpq default (prefer)", strings.Replace(dsn, "?sslmode=disable", "", 1), TLSVerifyNone, true},
		{"require", mode("sslmode=require"), TLSVerifyNone, true},
		{"verify-ca", mode("sslmode=verify-ca&sslrootcert=" + ca), TLSVerifyCA, true},
		{"require with a root certificate", mode("sslmode=require&sslrootcert=" + ca), TLSVerifyCA, true},
		{"verify-full", mode("sslmode=verify-full&sslrootcert=" + ca), TLSVerifyFull, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, db := CheckHealth(ctx(t), Options{URL: tc.url}, 1, 0)
			if db == nil {
				t.Fatalf("not connected: %+v", h.Error)
			}
			defer db.Close()
			if h.TLS != tc.tls || h.TLSVerify != tc.verify || (tc.tls && !strings.HasPrefix(h.TLSVersion, "TLSv1.")) {
				t.Fatalf("TLS %v %q %q, want %v %q", h.TLS, h.TLSVersion, h.TLSVerify, tc.tls, tc.verify)
			}
			// The refresh the console runs says the same.
			var again Health
			if err := db.ServerInfo(ctx(t), &again); err != nil || again.TLS != h.TLS || again.TLSVerify != h.TLSVerify {
				t.Errorf("ServerInfo: %v %q, %v", again.TLS, again.TLSVerify, err)
			}
			// Loopback: no finding; the same connection to another host
			// would carry db-tls-unverified exactly when nothing is checked.
			if h.Findings.Has(finding.DBTLSUnverified) {
				t.Errorf("a loopback connection raised db-tls-unverified: %v", h.Findings)
			}
			remote := *h
			remote.Target.Loopback = false
			fs := db.Judge(&remote)
			if got := fs.Has(finding.DBTLSUnverified); got != (tc.verify == TLSVerifyNone) {
				t.Errorf("db-tls-unverified %v for %s: %v", got, tc.name, fs)
			}
			if fs.Has(finding.DBNoTLS) != !tc.tls {
				t.Errorf("db-no-tls for %s: %v", tc.name, fs)
			}
			want := map[string]string{"": "off", TLSVerifyNone: "certificate not verified", TLSVerifyCA: "certificate chain verified, not the host name", TLSVerifyFull: "certificate verified"}[tc.verify]
			if got := h.TLSState(); got != want {
				t.Errorf("TLSState %q, want %q", got, want)
			}
		})
	}
}

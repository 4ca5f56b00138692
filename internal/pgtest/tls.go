package pgtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// WithTLS turns TLS on in the test cluster, with a fresh
// self-signed certificate for 127.0.0.1, until the test ends; it returns
// the certificate's path, for sslrootcert. The files are written by the
// server itself (COPY … TO, into its data directory, owned by its user),
// so this works whether the tests run as root or not. It
// touches only the throwaway cluster: with AUTHTUI_TEST_DATABASE_URL the
// test is skipped rather than reconfigure someone's server. pgtest's URLs
// say sslmode=disable, so other tests do not notice.
func WithTLS(t testing.TB, dsn string) string {
	t.Helper()
	if os.Getenv(EnvDatabaseURL) != "" {
		t.Skip("TLS is switched on only in pgtest's own throwaway cluster")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "authtui test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
	ca := filepath.Join(t.TempDir(), "root.crt")
	if err := os.WriteFile(ca, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}

	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(c, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var dir string
	if err := conn.QueryRow(c, "SELECT current_setting('data_directory')").Scan(&dir); err != nil {
		t.Fatal(err)
	}
	// PEM is base64 and dashes: nothing COPY's text format escapes.
	write := func(path string, data []byte) {
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		sql := "COPY (SELECT unnest(ARRAY['" + strings.Join(lines, "','") + "'])) TO '" + path + "'"
		if _, err := conn.Exec(c, sql); err != nil {
			t.Fatalf("writing %s: %v", filepath.Base(path), err)
		}
	}
	crt, keyPath := filepath.Join(dir, "authtui-test.crt"), filepath.Join(dir, "authtui-test.key")
	write(crt, certPEM)
	write(keyPath, keyPEM)
	// COPY leaves files readable by all (0644), which the server refuses
	// for a key. The tests run as the server's user or as root: either
	// may tighten it.
	if err := os.Chmod(keyPath, 0o600); err != nil {
		t.Skipf("cannot make the key private (%v): the data directory is not ours", err)
	}
	sslOn := func(on bool) {
		stmts := []string{"ALTER SYSTEM RESET ssl", "ALTER SYSTEM RESET ssl_cert_file", "ALTER SYSTEM RESET ssl_key_file"}
		if on {
			stmts = []string{"ALTER SYSTEM SET ssl_cert_file = '" + crt + "'", "ALTER SYSTEM SET ssl_key_file = '" + keyPath + "'", "ALTER SYSTEM SET ssl = on"}
		}
		for _, s := range append(stmts, "SELECT pg_reload_conf()") {
			if _, err := conn.Exec(c, s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
		// The postmaster reloads asynchronously: wait until new
		// connections see the change.
		req := strings.Replace(dsn, "sslmode=disable", "sslmode=require", 1)
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			cc, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			probe, err := pgx.Connect(cc, req)
			if err == nil {
				probe.Close(cc)
			}
			cancel()
			if (err == nil) == on {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("ssl=%v did not take effect: %v", on, err)
			}
		}
	}
	sslOn(true)
	t.Cleanup(func() {
		c, cancel = context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		conn, err = pgx.Connect(c, dsn)
		if err != nil {
			t.Errorf("turning TLS off again: %v", err)
			return
		}
		defer conn.Close(context.Background())
		sslOn(false)
	})
	return ca
}

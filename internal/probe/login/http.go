package login

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"
)

// maxBody caps what is read of any response: a hostile or broken server
// must not fill memory.
const maxBody = 1 << 20

// response is what a step keeps of an HTTP exchange.
type response struct {
	status    int
	header    http.Header
	body      []byte
	truncated bool
	elapsed   time.Duration
}

// netError classifies a transport failure.
type netError struct {
	class string // unreachable, timeout, dropped, cancelled
	msg   string
}

// Classes of netError that are not plain unreachability.
const (
	// netDropped: the server took the connection (and the request) and
	// closed or reset it without a complete answer. The host is reachable;
	// something on the way or the server itself gave up.
	netDropped = "dropped"
)

func (e *netError) Error() string { return e.msg }

// newClient builds the probe's HTTP client: redirects are returned, not
// followed, so each one can be shown; no cookie jar, every header is ours.
func newClient(base *http.Client) *http.Client {
	c := &http.Client{}
	if base != nil {
		*c = *base
	}
	if c.Transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 2
		c.Transport = t
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.Jar = nil
	return c
}

// do sends one request under its own timeout, reading at most maxBody of
// the answer.
func do(ctx context.Context, c *http.Client, timeout time.Duration, method, url string, header http.Header, body any) (*response, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, &netError{"unreachable", "bad URL: " + err.Error()}
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "authtui (BetterAuth session debugger)")
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return nil, classifyNet(ctx, err, timeout)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	r := &response{status: resp.StatusCode, header: resp.Header, elapsed: time.Since(start)}
	if err != nil {
		ne := classifyNet(ctx, err, timeout)
		if ne.class == netDropped {
			// The status line came, the body did not: say how far it got,
			// since a body cut at a fixed size points at a proxy.
			ne.msg = fmt.Sprintf("the server closed the connection in the middle of its answer (status %d, after %d bytes of the body): a crash or a proxy timeout cut it off. Read the auth service's (or the proxy's) log", resp.StatusCode, len(data))
		}
		return nil, ne
	}
	if len(data) > maxBody {
		data, r.truncated = data[:maxBody], true
	}
	r.body = data
	return r, nil
}

func classifyNet(ctx context.Context, err error, timeout time.Duration) *netError {
	var (
		dnsErr  *net.DNSError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		verify  *tls.CertificateVerificationError
		record  tls.RecordHeaderError
		ne      net.Error
	)
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return &netError{"timeout", fmt.Sprintf("no answer within %s", timeout)}
	case errors.Is(err, context.Canceled):
		return &netError{"cancelled", "cancelled"}
	case errors.As(err, &dnsErr):
		return &netError{"unreachable", "cannot resolve " + dnsErr.Name}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &netError{"unreachable", "connection refused: nothing listens there"}
	case errors.As(err, &unknown), errors.As(err, &host), errors.As(err, &verify):
		return &netError{"unreachable", "TLS certificate rejected: " + shortErr(err)}
	case errors.As(err, &record):
		return &netError{"unreachable", "TLS handshake failed (is it http, not https?)"}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		// Go reports a connection closed before (or while) the answer
		// came as a bare EOF, which reads as if nothing was there.
		return &netError{netDropped, "the server closed the connection before answering: a crash, a proxy timeout, or a server that drops requests it cannot handle. Read the auth service's (or the proxy's) log"}
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return &netError{netDropped, "the server reset the connection before answering: a crash, a proxy or firewall cutting it, or a server that drops requests it cannot handle. Read the auth service's (or the proxy's) log"}
	case strings.Contains(err.Error(), "malformed HTTP"):
		return &netError{"unreachable", "the server answered something that is not HTTP (another protocol on that port, or https spoken to an http URL?)"}
	}
	return &netError{"unreachable", shortErr(err)}
}

func shortErr(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && len(msg)-i < 120 {
		return msg[i+2:]
	}
	return msg
}

// errorCode reads BetterAuth's {"code":"…"} error body.
func errorCode(body []byte) string {
	var e struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(body, &e)
	return e.Code
}

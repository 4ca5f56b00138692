package latproxy

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"
)

// server is a loopback TCP server running handle for each connection,
// stopped when the test ends.
func server(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().String()
}

// echo copies back what it reads until EOF, then closes.
func echo(c net.Conn) { io.Copy(c, c) }

func start(t *testing.T, target string, opts Options) *Proxy {
	t.Helper()
	p, err := Start(target, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func dial(t *testing.T, p *Proxy) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	return c.(*net.TCPConn)
}

// exchange sends msg and reads the same number of bytes back.
func exchange(t *testing.T, c net.Conn, msg []byte) []byte {
	t.Helper()
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	return got
}

// A round trip through the proxy takes at least twice the delay, and
// three times with the handshake modelled. This is the one behaviour
// check on elapsed time: a lower bound against the configured delay.
func TestDelayApplied(t *testing.T) {
	const delay = 40 * time.Millisecond
	target := server(t, echo)
	for _, tc := range []struct {
		handshake bool
		min       time.Duration
	}{{false, 2 * delay}, {true, 4 * delay}} {
		p := start(t, target, Options{Delay: delay, Handshake: tc.handshake})
		before := time.Now()
		c := dial(t, p)
		if got := exchange(t, c, []byte("ping")); string(got) != "ping" {
			t.Fatalf("echo %q", got)
		}
		if d := time.Since(before); d < tc.min {
			t.Errorf("handshake=%v: a round trip took %s, want at least %s", tc.handshake, d, tc.min)
		}
	}
}

// Many small writes and one large one arrive complete and in order, in
// both directions.
func TestOrderPreserved(t *testing.T) {
	p := start(t, server(t, echo), Options{Delay: 5 * time.Millisecond})
	c := dial(t, p)
	const n = 2000
	done := make(chan error, 1)
	go func() {
		var buf [4]byte
		for i := range n {
			binary.BigEndian.PutUint32(buf[:], uint32(i))
			if _, err := c.Write(buf[:]); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	r := bufio.NewReader(c)
	var buf [4]byte
	for i := range n {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			t.Fatalf("after %d: %v", i, err)
		}
		if got := binary.BigEndian.Uint32(buf[:]); got != uint32(i) {
			t.Fatalf("message %d arrived as %d", i, got)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	big := make([]byte, 4<<20)
	rand.Read(big)
	go func() { _, err := c.Write(big); done <- err }()
	got := make([]byte, len(big))
	if _, err := io.ReadFull(r, got); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, big) {
		t.Fatal("4 MiB came back altered")
	}
}

// Each request sent after its answer is a round trip; writes sent without
// waiting for an answer are one; connections are counted, per connection
// and in total.
func TestCounts(t *testing.T) {
	p := start(t, server(t, echo), Options{Delay: 50 * time.Millisecond})
	a := dial(t, p)
	for range 3 {
		exchange(t, a, []byte("q"))
	}
	mid := p.Stats()
	if mid.Conns != 1 || mid.RoundTrips != 3 {
		t.Errorf("after 3 sequential exchanges: %+v", mid)
	}

	// Three writes in a row, well within one round trip (100 ms): the echo
	// of the first cannot have reached the client before the third left.
	b := dial(t, p)
	if _, err := b.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	b.Write([]byte("y"))
	b.Write([]byte("z"))
	got := make([]byte, 3)
	if _, err := io.ReadFull(b, got); err != nil || string(got) != "xyz" {
		t.Fatalf("pipelined echo %q %v", got, err)
	}
	exchange(t, b, []byte("again"))

	s := p.Stats()
	if s.Conns != 2 || s.RoundTrips != 5 || len(s.PerConn) != 2 {
		t.Fatalf("stats %+v", s)
	}
	if s.PerConn[0].RoundTrips != 3 || s.PerConn[1].RoundTrips != 2 {
		t.Errorf("per connection: %+v", s.PerConn)
	}
	if s.PerConn[1].BytesUp != 8 || s.PerConn[1].BytesDown != 8 {
		t.Errorf("bytes: %+v", s.PerConn[1])
	}
	d := s.Since(mid)
	if d.Conns != 1 || d.RoundTrips != 2 || len(d.PerConn) != 1 || d.PerConn[0].ID != 2 {
		t.Errorf("since: %+v", d)
	}
	events, dropped := p.Events()
	var opens, trips int
	for _, e := range events {
		switch e.Kind {
		case EventOpen:
			opens++
		case EventRoundTrip:
			trips++
		}
	}
	if opens != 2 || trips != 5 || dropped != 0 {
		t.Errorf("timeline: %d opens, %d round trips, %d dropped", opens, trips, dropped)
	}
}

// A client's half-close reaches the server, whose last words and close
// reach the client.
func TestHalfClose(t *testing.T) {
	target := server(t, func(c net.Conn) {
		got, _ := io.ReadAll(c) // until the client's EOF
		c.Write(append([]byte("got "), got...))
	})
	p := start(t, target, Options{Delay: 10 * time.Millisecond})
	c := dial(t, p)
	c.Write([]byte("hello"))
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	reply, err := io.ReadAll(c)
	if err != nil || string(reply) != "got hello" {
		t.Fatalf("reply %q, %v", reply, err)
	}
	// Both directions ended: the connection is closed in the stats.
	for range 100 {
		if p.Stats().PerConn[0].Closed {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Error("the connection is still open after both sides closed")
}

// Close does not wait for data in flight or for a silent server: it drops
// the connections, and every goroutine of the proxy has exited when it
// returns.
func TestCloseStopsEverything(t *testing.T) {
	base := runtime.NumGoroutine()
	silent := server(t, func(c net.Conn) { io.Copy(io.Discard, c) })
	p, err := Start(silent, Options{Delay: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write([]byte("due in a minute"))
		conns = append(conns, c)
	}
	for range 100 { // until the proxy has accepted all three
		if p.Stats().Conns == 3 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	closed := make(chan struct{})
	go func() { p.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(20 * time.Second):
		t.Fatal("Close waited for the delay")
	}
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Error("a client connection survived Close")
		}
	}
	if _, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		t.Error("still accepting after Close")
	}
	p.Close() // idempotent
	// What may remain above base is the silent server's accept loop (its
	// handlers end with the upstream connections the proxy closed).
	for range 200 {
		if runtime.NumGoroutine() <= base+1 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("%d goroutines left, %d before", runtime.NumGoroutine(), base)
}

func TestOnlyLoopbackTargets(t *testing.T) {
	for _, target := range []string{"192.0.2.1:5432", "example.com:443", "nonsense"} {
		if p, err := Start(target, Options{}); err == nil {
			p.Close()
			t.Errorf("%s accepted", target)
		}
	}
	for _, target := range []string{"127.0.0.1:5432", "[::1]:5432", "localhost:5432"} {
		p, err := Start(target, Options{})
		if err != nil {
			t.Errorf("%s: %v", target, err)
			continue
		}
		p.Close()
	}
}

// A target nobody listens on: the client's connection is closed.
func TestTargetDown(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	p := start(t, addr, Options{Delay: time.Millisecond})
	c := dial(t, p)
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("read from a proxied connection to nothing")
	}
}

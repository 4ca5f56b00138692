// Package latproxy is a loopback TCP proxy that adds a fixed one-way delay
// in each direction, so that tests and benchmarks can show how authtui
// behaves against a database or an auth service 30–150 ms away without
// leaving the machine.
//
// It models latency, not bandwidth: bytes read at time t are written at
// t+delay, in order, each direction independently of the other. A
// half-close (EOF) travels with the same delay; Close stops everything.
// It counts connections and round trips, where a round trip is a burst the
// client sends after it has received something (plus the first one): that
// is what a request/response protocol pays a network RTT for, so a
// benchmark can report round trips next to time and show which ones a
// change saved.
//
//	p, err := latproxy.Start("127.0.0.1:5432", latproxy.Options{Delay: 50 * time.Millisecond})
//	defer p.Close()
//	// connect to p.Addr() instead of 127.0.0.1:5432
package latproxy

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures a proxy.
type Options struct {
	// Delay is the one-way latency added in each direction.
	Delay time.Duration
	// Handshake makes each connection pay one round trip (2×Delay) before
	// its first byte goes anywhere, as a TCP connect to a remote host does:
	// the loopback connect to the proxy itself completes at once, so
	// without it a new connection would look free.
	Handshake bool
	// MaxEvents bounds the timeline Events returns; 0 means 10000. Later
	// events are counted but not kept.
	MaxEvents int
}

// Kinds of Event.
const (
	EventOpen      = "open"       // a client connected
	EventRoundTrip = "round-trip" // the client started a new round trip
	EventClose     = "close"      // both directions are done
)

// Event is one entry of the proxy's timeline.
type Event struct {
	At   time.Time
	Conn int // connection number, from 1 in accept order
	Kind string
}

// ConnStats is what one connection did.
type ConnStats struct {
	ID         int
	Opened     time.Time
	RoundTrips int64
	BytesUp    int64 // client to server
	BytesDown  int64 // server to client
	Closed     bool
}

// Stats is a snapshot of the proxy's counters.
type Stats struct {
	Conns      int   // connections opened
	RoundTrips int64 // over every connection
	PerConn    []ConnStats
}

// Since returns what happened after prev was taken (an earlier Stats of
// the same proxy): the connections opened since, and the round trips and
// bytes of every connection that did something.
func (s Stats) Since(prev Stats) Stats {
	old := map[int]ConnStats{}
	for _, c := range prev.PerConn {
		old[c.ID] = c
	}
	out := Stats{Conns: s.Conns - prev.Conns, RoundTrips: s.RoundTrips - prev.RoundTrips}
	for _, c := range s.PerConn {
		o, seen := old[c.ID]
		d := c
		d.RoundTrips -= o.RoundTrips
		d.BytesUp -= o.BytesUp
		d.BytesDown -= o.BytesDown
		if !seen || d.RoundTrips > 0 || d.BytesUp > 0 || d.BytesDown > 0 {
			out.PerConn = append(out.PerConn, d)
		}
	}
	return out
}

// Proxy is a running proxy.
type Proxy struct {
	ln     net.Listener
	target string
	opts   Options

	done      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup

	roundTrips atomic.Int64

	mu      sync.Mutex
	conns   []*pair // every connection ever accepted, for Stats
	events  []Event
	dropped int
}

// Start listens on a free loopback port and forwards every connection to
// target, which must be a loopback address: the proxy is a test tool and
// never sends traffic off the machine.
func Start(target string, opts Options) (*Proxy, error) {
	if opts.Delay < 0 {
		return nil, errors.New("latproxy: negative delay")
	}
	if err := checkLoopback(target); err != nil {
		return nil, err
	}
	if opts.MaxEvents <= 0 {
		opts.MaxEvents = 10000
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("latproxy: %w", err)
	}
	p := &Proxy{ln: ln, target: target, opts: opts, done: make(chan struct{})}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

func checkLoopback(target string) error {
	host, _, err := net.SplitHostPort(target)
	if err != nil {
		return fmt.Errorf("latproxy: target %q: %w", target, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("latproxy: target %q is not a loopback address", target)
	}
	return nil
}

// Addr is where clients connect: 127.0.0.1:PORT.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Stats returns a snapshot of the counters.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	conns := append([]*pair(nil), p.conns...)
	p.mu.Unlock()
	s := Stats{Conns: len(conns), RoundTrips: p.roundTrips.Load()}
	for _, c := range conns {
		s.PerConn = append(s.PerConn, c.stats())
	}
	return s
}

// Events returns the timeline so far (at most Options.MaxEvents entries)
// and how many later events were not kept.
func (p *Proxy) Events() (events []Event, dropped int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Event(nil), p.events...), p.dropped
}

func (p *Proxy) record(conn int, kind string, at time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.events) >= p.opts.MaxEvents {
		p.dropped++
		return
	}
	p.events = append(p.events, Event{At: at, Conn: conn, Kind: kind})
}

// Close stops accepting, drops every connection (data still in flight is
// discarded) and returns once every goroutine of the proxy has exited.
func (p *Proxy) Close() error {
	var err error
	p.closeOnce.Do(func() {
		close(p.done)
		err = p.ln.Close()
		p.mu.Lock()
		conns := append([]*pair(nil), p.conns...)
		p.mu.Unlock()
		for _, c := range conns {
			c.abort()
		}
		p.wg.Wait()
	})
	return err
}

// accept runs until Close closes the listener.
func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			select {
			case <-p.done:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		p.open(client)
	}
}

// open connects to the target and starts relaying. It runs in the accept
// loop: a dial to a loopback address answers at once.
func (p *Proxy) open(client net.Conn) {
	now := time.Now()
	upstream, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		// Nothing listens there: the client sees its connection closed,
		// as it would see a refused connect.
		client.Close()
		return
	}
	c := &pair{p: p, client: client, upstream: upstream, opened: now, dead: make(chan struct{})}
	c.start = now
	if p.opts.Handshake {
		c.start = now.Add(2 * p.opts.Delay)
	}
	p.mu.Lock()
	c.id = len(p.conns) + 1
	p.conns = append(p.conns, c)
	p.mu.Unlock()
	p.record(c.id, EventOpen, now)
	select {
	case <-p.done:
		// Close ran between Accept and here and did not see this pair.
		c.abort()
		return
	default:
	}
	up := make(chan chunk, queueLen)
	down := make(chan chunk, queueLen)
	p.wg.Add(4)
	go c.read(client, up, true)
	go c.write(upstream, up, true)
	go c.read(upstream, down, false)
	go c.write(client, down, false)
}

// queueLen chunks of at most readSize bytes may be in flight per
// direction; beyond that the reader waits, which only ever happens when
// the receiving side stops reading.
const (
	queueLen = 1024
	readSize = 32 << 10
)

// chunk is what one Read returned, and when it is due at the other side.
type chunk struct {
	data []byte
	due  time.Time
	eof  bool  // the sender half-closed (or failed, with err)
	err  error // a read error other than EOF: the connection is dropped
}

// pair is one proxied connection: the client's and the upstream one.
type pair struct {
	p                *Proxy
	id               int
	client, upstream net.Conn
	opened, start    time.Time

	dead      chan struct{} // closed when the pair is torn down
	abortOnce sync.Once

	mu         sync.Mutex
	sent       bool // the client has sent at least once
	heard      bool // the client received data since it last sent
	roundTrips int64
	up, down   int64
	halfDone   int // directions whose EOF was delivered
	closed     bool
}

func (c *pair) stats() ConnStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return ConnStats{ID: c.id, Opened: c.opened, RoundTrips: c.roundTrips, BytesUp: c.up, BytesDown: c.down, Closed: c.closed}
}

// abort closes both connections at once; every goroutine of the pair
// then returns.
func (c *pair) abort() {
	c.abortOnce.Do(func() {
		close(c.dead)
		c.client.Close()
		c.upstream.Close()
		c.mu.Lock()
		first := !c.closed
		c.closed = true
		c.mu.Unlock()
		if first {
			c.p.record(c.id, EventClose, time.Now())
		}
	})
}

// read forwards what src sends to the queue, stamped with when it is due.
func (c *pair) read(src net.Conn, q chan<- chunk, fromClient bool) {
	defer c.p.wg.Done()
	delay := c.p.opts.Delay
	buf := make([]byte, readSize)
	for {
		n, err := src.Read(buf)
		now := time.Now()
		due := now
		if due.Before(c.start) {
			due = c.start
		}
		due = due.Add(delay)
		if n > 0 {
			if fromClient {
				c.sentData(now, n)
			}
			ch := chunk{data: append([]byte(nil), buf[:n]...), due: due}
			if !c.send(q, ch) {
				return
			}
		}
		if err != nil {
			ch := chunk{due: due, eof: true}
			if !errors.Is(err, io.EOF) {
				ch.err = err
			}
			c.send(q, ch)
			return
		}
	}
}

func (c *pair) send(q chan<- chunk, ch chunk) bool {
	select {
	case q <- ch:
		return true
	case <-c.dead:
		return false
	}
}

// sentData counts a round trip when the client sends after it has heard
// back (or for the first time).
func (c *pair) sentData(now time.Time, n int) {
	c.mu.Lock()
	c.up += int64(n)
	newTrip := !c.sent || c.heard
	if newTrip {
		c.sent, c.heard = true, false
		c.roundTrips++
	}
	c.mu.Unlock()
	if newTrip {
		c.p.roundTrips.Add(1)
		c.p.record(c.id, EventRoundTrip, now)
	}
}

// write delivers the queue to dst, each chunk at its due time.
func (c *pair) write(dst net.Conn, q <-chan chunk, toServer bool) {
	defer c.p.wg.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		var ch chunk
		select {
		case ch = <-q:
		case <-c.dead:
			return
		}
		if wait := time.Until(ch.due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-c.dead:
				return
			}
		}
		if ch.err != nil {
			c.abort()
			return
		}
		if ch.eof {
			c.halfClose(dst)
			return
		}
		if !toServer {
			// Mark before writing: once the bytes are out, the client's
			// answer may be read before Write even returns here.
			c.mu.Lock()
			c.heard = true
			c.down += int64(len(ch.data))
			c.mu.Unlock()
		}
		if _, err := dst.Write(ch.data); err != nil {
			c.abort()
			return
		}
	}
}

// halfClose passes an EOF on; once both directions have ended, the pair
// is closed.
func (c *pair) halfClose(dst net.Conn) {
	if cw, ok := dst.(interface{ CloseWrite() error }); ok {
		if err := cw.CloseWrite(); err != nil {
			c.abort()
			return
		}
	}
	c.mu.Lock()
	c.halfDone++
	both := c.halfDone == 2
	c.mu.Unlock()
	if both {
		c.abort()
	}
}

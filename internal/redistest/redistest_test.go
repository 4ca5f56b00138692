package redistest_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authtui/authtui/internal/redistest"
	"github.com/authtui/authtui/internal/testenv"
)

func TestStartServesAndStops(t *testing.T) {
	srv := redistest.Start(t)
	if !strings.HasPrefix(srv.URL, "redis://127.0.0.1:") || !strings.HasSuffix(srv.URL, srv.Addr) {
		t.Fatalf("URL %q, Addr %q", srv.URL, srv.Addr)
	}
	opt, err := redis.ParseURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Set(ctx, "k", "v", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := rdb.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("GET k = %q, %v", got, err)
	}
	// Nothing persists: the options reached the server.
	cfg, err := rdb.ConfigGet(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if cfg["save"] != "" || cfg["appendonly"] != "no" || !strings.Contains(cfg["bind"], "127.0.0.1") {
		t.Fatalf("save=%q appendonly=%q bind=%q", cfg["save"], cfg["appendonly"], cfg["bind"])
	}

	pid := srv.Pid()
	srv.Stop()
	srv.Stop() // twice is fine
	if testenv.GroupAlive(t, pid) {
		t.Fatal("redis-server still runs after Stop")
	}
	d := net.Dialer{Timeout: time.Second}
	if c, err := d.Dial("tcp", srv.Addr); err == nil {
		c.Close()
		t.Fatal("something still listens after Stop")
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Logf("dial after Stop: %v", err)
	}
}

func TestServersAreSeparate(t *testing.T) {
	a, b := redistest.Start(t), redistest.Start(t)
	if a.Port == b.Port {
		t.Fatalf("two servers on port %d", a.Port)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ra := redis.NewClient(&redis.Options{Addr: a.Addr})
	rb := redis.NewClient(&redis.Options{Addr: b.Addr})
	defer ra.Close()
	defer rb.Close()
	if err := ra.Set(ctx, "only-in-a", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := rb.Exists(ctx, "only-in-a").Result(); err != nil || n != 0 {
		t.Fatalf("EXISTS on b = %d, %v", n, err)
	}
}

package main

import (
	"context"
	"net"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const testRedisAddr = "127.0.0.1:6379"

// requireRedis returns the address of the development Redis, skipping the
// test when it is down unless ASYNCTRACE_REQUIRE_SERVICES=1 demands it.
func requireRedis(t *testing.T) string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", testRedisAddr, 2*time.Second)
	if err != nil {
		if os.Getenv("ASYNCTRACE_REQUIRE_SERVICES") == "1" {
			t.Fatalf("Redis is not reachable at %s (required by ASYNCTRACE_REQUIRE_SERVICES=1): %v", testRedisAddr, err)
		}
		t.Skipf("Redis is not reachable at %s; start it with scripts/services.sh: %v", testRedisAddr, err)
	}
	_ = conn.Close()
	return testRedisAddr
}

func deleteStream(t *testing.T, addr, stream string) {
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Del(ctx, stream).Err(); err != nil {
		t.Errorf("removing stream %s: %v", stream, err)
	}
}

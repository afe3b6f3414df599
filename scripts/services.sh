#!/usr/bin/env bash
# Makes sure the broker and database servers the integration tests use are
# running on loopback, starting any that is down. Exits non-zero, naming the
# server, when one cannot be brought up.
set -euo pipefail

wait_port() { # name port seconds
  local name=$1 port=$2 deadline=$((SECONDS + $3))
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      echo "services: $name did not open 127.0.0.1:$port" >&2
      return 1
    fi
    sleep 1
  done
  echo "services: $name is up on 127.0.0.1:$port"
}

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

ensure() { # name port seconds start-command...
  local name=$1 port=$2 secs=$3
  shift 3
  if up "$port"; then
    echo "services: $name is up on 127.0.0.1:$port"
    return 0
  fi
  echo "services: starting $name"
  "$@" || echo "services: the start command of $name failed; waiting for its port anyway" >&2
  wait_port "$name" "$port" "$secs"
}

start_postgres() { pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start; }
start_redis() {
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
}
start_rabbitmq() { rabbitmq-server -detached; }
start_nats() {
  mkdir -p /var/lib/nats-server
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
}

ensure PostgreSQL 5432 60 start_postgres
ensure Redis 6379 30 start_redis
ensure NATS 4222 30 start_nats
ensure RabbitMQ 5672 120 start_rabbitmq

# PostgreSQL answers on its port before it accepts queries.
if command -v pg_isready >/dev/null; then
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

#!/usr/bin/env bash
# RabbitMQ for the AMQP tests: installs Debian's rabbitmq-server if absent and starts one
# node on loopback only (AMQP on 127.0.0.1:5672, epmd and the Erlang distribution port on
# 127.0.0.1 too). Idempotent: does nothing when the node already answers.
set -uo pipefail

export RABBITMQ_NODENAME=rabbit@localhost
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export ERL_EPMD_ADDRESS=127.0.0.1
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"

if ! command -v rabbitmq-server >/dev/null; then
  echo "installing rabbitmq-server"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends rabbitmq-server >/dev/null 2>&1 || {
    apt-get update -qq >/dev/null 2>&1
    apt-get install -y -qq --no-install-recommends rabbitmq-server >/dev/null || exit 1
  }
fi

if timeout 20 rabbitmqctl -q status >/dev/null 2>&1; then
  echo "rabbitmq already running"
  exit 0
fi

echo "starting rabbitmq on 127.0.0.1"
rabbitmq-server -detached >/dev/null 2>&1 || true
# await_startup needs the node to exist; the detached node takes a moment to appear.
deadline=$((SECONDS + 120))
while [ "$SECONDS" -lt "$deadline" ]; do
  if timeout 60 rabbitmqctl -q await_startup --timeout 60 >/dev/null 2>&1; then
    echo "rabbitmq is up"
    exit 0
  fi
  sleep 1
done
echo "rabbitmq did not start; see /var/log/rabbitmq/" >&2
tail -20 /var/log/rabbitmq/*.log 2>/dev/null >&2
exit 1

#!/usr/bin/env bash
# Stops the RabbitMQ node started by .ci/setup.d/30-rabbitmq.sh (quietly; absent is fine).
export RABBITMQ_NODENAME=rabbit@localhost
export ERL_EPMD_ADDRESS=127.0.0.1
export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
command -v rabbitmqctl >/dev/null || exit 0
timeout 60 rabbitmqctl -q stop >/dev/null 2>&1 || true

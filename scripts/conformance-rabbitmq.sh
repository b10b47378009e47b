#!/usr/bin/env bash
# conformance-rabbitmq.sh [go test args...]
#
# Starts a private RabbitMQ node (scripts/rabbitmq-node.sh), runs the
# conformance suite against it, stops the node and exits with the test
# status. Extra arguments go to `go test` (e.g. -run 'TestConformance/queue').
# Set KEEP_RABBITMQ=1 to leave the node running afterwards.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
NODE_SH=$ROOT/scripts/rabbitmq-node.sh

"$NODE_SH" start
if [ -z "${KEEP_RABBITMQ:-}" ]; then
	trap '"$NODE_SH" stop || true' EXIT
fi

# A later -run in "$@" overrides this one.
status=0
AMQP_URL=$("$NODE_SH" url) ${GO:-go} test -count=1 -v -run TestConformance "$@" ./conformance || status=$?
exit $status

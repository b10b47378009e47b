#!/usr/bin/env bash
# rabbitmq-node.sh start|stop|status|url|ctl ARGS...
#
# Runs a private RabbitMQ node for the conformance suite and the perf
# comparisons. It never touches a system-wide node: it has its own node name,
# AMQP port, distribution port, cookie (HOME), config, plugins file, and its
# data and logs live under <repo>/.rabbitmq/<port>/ (gitignored).
#
# Environment:
#   RABBITMQ_PORT       AMQP port (default 5673)
#   RABBITMQ_DIST_PORT  Erlang distribution port (default RABBITMQ_PORT+20000)
#   WARREN_RABBITMQ_NODE node name (default warren-conf-<port>@localhost)
#
# Idempotent: `start` on a running node and `stop` on a stopped one succeed.
set -euo pipefail

cmd=${1:-}
[ $# -gt 0 ] && shift

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PORT=${RABBITMQ_PORT:-5673}
DIST_PORT=${RABBITMQ_DIST_PORT:-$((PORT + 20000))}
NODE=${WARREN_RABBITMQ_NODE:-warren-conf-$PORT@localhost}
BASE=$ROOT/.rabbitmq/$PORT
SBIN=/usr/lib/rabbitmq/bin
START_TIMEOUT=${RABBITMQ_START_TIMEOUT:-90}

# The private environment, for the server and for the CLI tools alike. The
# CLI tools find the node through epmd (shared, harmless) and authenticate
# with the cookie in $HOME, so HOME must be the same for both.
setup_env() {
	mkdir -p "$BASE/home" "$BASE/mnesia" "$BASE/log"
	export HOME=$BASE/home
	export RABBITMQ_NODENAME=$NODE
	export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
	export RABBITMQ_NODE_PORT=$PORT
	export RABBITMQ_DIST_PORT=$DIST_PORT
	export RABBITMQ_MNESIA_BASE=$BASE/mnesia
	export RABBITMQ_LOG_BASE=$BASE/log
	export RABBITMQ_CONFIG_FILE=$BASE/rabbitmq.conf
	export RABBITMQ_ADVANCED_CONFIG_FILE=$BASE/advanced.config
	export RABBITMQ_ENABLED_PLUGINS_FILE=$BASE/enabled_plugins
	export RABBITMQ_CONF_ENV_FILE=$BASE/rabbitmq-env.conf
	export RABBITMQ_PID_FILE=$BASE/node.pid
	# Keep the Erlang distribution (and the CLI tools' own dist ports) off
	# the defaults another node on this machine would use.
	export ERL_EPMD_ADDRESS=127.0.0.1
	export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
	unset RABBITMQ_ENABLED_PLUGINS 2>/dev/null || true
	: >"$RABBITMQ_CONF_ENV_FILE"
	# The conformance suite's extensions section tests the consistent-hash
	# exchange, a plugin RabbitMQ ships (but does not enable by default).
	echo '[rabbitmq_consistent_hash_exchange].' >"$RABBITMQ_ENABLED_PLUGINS_FILE"
	[ -f "$RABBITMQ_ADVANCED_CONFIG_FILE" ] || echo '[].' >"$RABBITMQ_ADVANCED_CONFIG_FILE"
	cat >"$RABBITMQ_CONFIG_FILE" <<EOF
listeners.tcp.1 = 127.0.0.1:$PORT
loopback_users.guest = true
log.file.level = info
log.console = false
# A small machine or a nearly full disk must not block publishers in tests.
disk_free_limit.absolute = 10MB
EOF
}

ensure_installed() {
	if [ -x "$SBIN/rabbitmq-server" ]; then
		return
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "rabbitmq-server is not installed; run as root or: apt-get install rabbitmq-server" >&2
		exit 1
	fi
	echo "installing rabbitmq-server (apt-get)" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# policy-rc.d forbids the package from starting the system-wide node.
	local policy=/usr/sbin/policy-rc.d created=
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod +x "$policy"
		created=1
	fi
	apt-get install -y -qq rabbitmq-server >/dev/null || { [ -n "$created" ] && rm -f "$policy"; exit 1; }
	[ -n "$created" ] && rm -f "$policy"
	# If the system service was started anyway, stop it through its own
	# init script (it is not ours to keep running on 5672).
	if command -v service >/dev/null && service rabbitmq-server status >/dev/null 2>&1; then
		service rabbitmq-server stop >/dev/null 2>&1 || true
	fi
}

ctl() { "$SBIN/rabbitmqctl" -n "$NODE" "$@"; }

running() { ctl -q status >/dev/null 2>&1; }

listening() {
	"$SBIN/rabbitmq-diagnostics" -q -n "$NODE" check_port_listener "$PORT" >/dev/null 2>&1
}

url() { echo "amqp://guest:guest@127.0.0.1:$PORT/"; }

start() {
	ensure_installed
	setup_env
	if running && listening; then
		echo "rabbitmq node $NODE already running on 127.0.0.1:$PORT" >&2
		return
	fi
	# Raise the descriptor limit as far as we may; RabbitMQ wants many.
	ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
	if ! running; then
		if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
			echo "port $PORT is taken by something other than $NODE; set RABBITMQ_PORT" >&2
			exit 1
		fi
		echo "starting rabbitmq node $NODE on 127.0.0.1:$PORT (data in $BASE)" >&2
		(cd "$BASE" && setsid nohup "$SBIN/rabbitmq-server" >"$BASE/log/startup.log" 2>&1 </dev/null &)
	fi
	local deadline=$((SECONDS + START_TIMEOUT))
	until listening; do
		if [ $SECONDS -ge $deadline ]; then
			echo "rabbitmq node $NODE did not start within ${START_TIMEOUT}s; see $BASE/log" >&2
			tail -n 30 "$BASE/log/startup.log" >&2 || true
			exit 1
		fi
		sleep 1
	done
	echo "rabbitmq node $NODE is up: $(url)" >&2
}

stop() {
	[ -x "$SBIN/rabbitmqctl" ] || return 0
	setup_env
	if running; then
		echo "stopping rabbitmq node $NODE" >&2
		# With the pid file, rabbitmqctl waits until the VM has exited.
		if [ -s "$RABBITMQ_PID_FILE" ]; then
			ctl stop "$RABBITMQ_PID_FILE" >/dev/null
		else
			ctl stop >/dev/null
		fi
	fi
}

case "$cmd" in
start) start ;;
stop) stop ;;
url) url ;;
status)
	setup_env
	if running && listening; then echo "running: $(url)"; else echo "stopped"; exit 1; fi
	;;
ctl)
	setup_env
	ctl "$@"
	;;
*)
	echo "usage: $0 start|stop|status|url|ctl ARGS..." >&2
	exit 2
	;;
esac

#!/usr/bin/env bash
# A private Redis Cluster (3 masters + 3 replicas) on free ports, for the cluster tests and the bench.
#   scripts/redis-cluster.sh start <dir>   starts the six nodes in <dir> (created; one folder a node, nothing
#                                          persisted but nodes.conf), builds the cluster, waits until every node
#                                          says cluster_state:ok and every replica is in sync, then prints the
#                                          seed URLs, comma-separated (also written to <dir>/seeds)
#   scripts/redis-cluster.sh stop <dir>    stops every node by the pid in its pidfile (a node a test stopped
#                                          with SIGSTOP or restarted included), then removes <dir>
# .ci/run exports the seeds as TIDINGS_REDIS_CLUSTER and stops the cluster on exit, whatever the tests did.
set -euo pipefail

NODES=6
# Failover within ~3 s of a master dying (the default, 15 s, is too slow for a test suite).
NODE_TIMEOUT_MS=2000

usage() {
  echo "usage: $0 start|stop <dir>" >&2
  exit 2
}

[ $# -eq 2 ] || usage
dir=$2

# True when nothing accepts connections on 127.0.0.1:$1.
port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# A port p with p and p + 10000 (the cluster bus port) both free. Both stay below the kernel's ephemeral range
# (32768 and up here), where the local end of any outgoing connection may hold a port nothing listens on.
pick_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 2700))
    if port_free "$p" && port_free $((p + 10000)); then
      echo "$p"
      return
    fi
  done
  echo "redis-cluster: no free port pair found" >&2
  exit 1
}

# Starts one node on a free port (another one if that port was taken meanwhile); prints the port.
start_node() {
  local port
  for _ in $(seq 1 5); do
    port=$(pick_port)
    mkdir -p "$dir/$port"
    # A config file per node: a test that kills a node starts it again with `redis-server <config_file>`
    # (INFO server names the file), and it rejoins the cluster from its nodes.conf.
    cat >"$dir/$port/redis.conf" <<CONF
port $port
bind 127.0.0.1
daemonize yes
cluster-enabled yes
cluster-config-file $dir/$port/nodes.conf
cluster-node-timeout $NODE_TIMEOUT_MS
cluster-replica-validity-factor 0
repl-diskless-sync-delay 0
pidfile $dir/$port/redis.pid
dir $dir/$port
logfile $dir/$port/redis.log
save ""
appendonly no
CONF
    redis-server "$dir/$port/redis.conf"
    for _ in $(seq 1 50); do
      if redis-cli -p "$port" ping >/dev/null 2>&1; then
        echo "$port"
        return
      fi
      sleep 0.1
    done
    mv "$dir/$port" "$dir/failed-$port" # its log stays for a look; stop() skips it (no pidfile of a live node)
  done
  echo "redis-cluster: a node did not start on any of 5 ports (see $dir/failed-*/redis.log)" >&2
  exit 1
}

# Runs until `$2` succeeds, at most $1 tenths of a second; fails with the message $3 otherwise.
wait_until() {
  local tries=$1 check=$2 what=$3
  for _ in $(seq 1 "$tries"); do
    if eval "$check"; then return; fi
    sleep 0.1
  done
  echo "redis-cluster: $what" >&2
  exit 1
}

# True when every node answers, knows all six, has every slot served and (replicas) is in sync.
cluster_ready() {
  local port info
  for port in $ports; do
    info=$(redis-cli -p "$port" cluster info 2>/dev/null) || return 1
    [[ $info == *"cluster_state:ok"* && $info == *"cluster_known_nodes:$NODES"* ]] || return 1
    info=$(redis-cli -p "$port" info replication 2>/dev/null) || return 1
    [[ $info == *"role:master"* || $info == *"master_link_status:up"* ]] || return 1
  done
}

start() {
  mkdir -p "$dir"
  ports=""
  for _ in $(seq 1 "$NODES"); do ports="$ports $(start_node)"; done
  local hosts=""
  for port in $ports; do hosts="$hosts 127.0.0.1:$port"; done
  # shellcheck disable=SC2086 # one argument a node
  redis-cli --cluster create $hosts --cluster-replicas 1 --cluster-yes >"$dir/create.log" 2>&1 ||
    { cat "$dir/create.log" >&2; exit 1; }
  wait_until 300 cluster_ready "cluster not ok with $NODES nodes and replicas in sync within 30 s"
  local seeds=""
  for port in $ports; do seeds="${seeds:+$seeds,}redis://127.0.0.1:$port"; done
  echo "$seeds" >"$dir/seeds"
  echo "$seeds"
}

stop() {
  [ -d "$dir" ] || return 0
  local pidfile pid port
  for pidfile in "$dir"/*/redis.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    port=$(basename "$(dirname "$pidfile")")
    # Only a redis-server of this port: never a process that reused the pid of a node already gone.
    [[ $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == *"redis-server"*":$port"* ]] || continue
    # A node a test froze (SIGSTOP) only handles SIGTERM once continued.
    kill -CONT "$pid" 2>/dev/null || continue
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$dir"
}

case $1 in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac

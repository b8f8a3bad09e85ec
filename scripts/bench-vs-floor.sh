#!/usr/bin/env bash
# Runs issue 5's fan-out cases against the reference floor broadcaster and
# against Parley, one after the other, with the same load client
# (../shared/bench/fanout). Prints each run's summary line; the JSON results
# go to $OUT (default /tmp/bench-vs-floor).
#
#   scripts/bench-vs-floor.sh                 # every case
#   scripts/bench-vs-floor.sh room1k-max      # some cases
#   DURATION=10s scripts/bench-vs-floor.sh    # shorter publishing phase
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH=${BENCH:-../shared/bench}
OUT=${OUT:-/tmp/bench-vs-floor}
DURATION=${DURATION:-20s}
mkdir -p "$OUT"

(cd "$BENCH" && go build -o "$OUT/fanout" ./fanout && go build -o "$OUT/floor" ./floor)
go build -o "$OUT/parley" ./cmd/parley

declare -A CASES=(
	[idle19k]="-conns 19000 -rooms 1 -idle"
	[room10k-max]="-conns 10000 -rooms 1 -rate 0 -duration $DURATION"
	[room10k-10]="-conns 10000 -rooms 1 -rate 10 -duration $DURATION"
	[room1k-max]="-conns 1000 -rooms 1 -rate 0 -duration $DURATION"
	[rooms100x20]="-conns 2000 -rooms 100 -rate 1000 -duration $DURATION"
	[room10k-100]="-conns 10000 -rooms 1 -rate 100 -duration $DURATION"
)
ORDER=(idle19k room1k-max room10k-max room10k-10 rooms100x20 room10k-100)
[ $# -gt 0 ] && ORDER=("$@")

AKID=PKBENCHBENCHBENCH001
SECRET=bench-secret-bench-secret-bench-secret-0
pid=
stop() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; pid=; }
trap stop EXIT

wait_port() {
	for _ in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "nothing listens on $1" >&2
	return 1
}

for name in "${ORDER[@]}"; do
	args=${CASES[$name]}
	"$OUT/floor" -addr 127.0.0.1:9000 >"$OUT/floor.log" 2>&1 &
	pid=$!
	wait_port 9000
	# shellcheck disable=SC2086
	"$OUT/fanout" -proto floor -url ws://127.0.0.1:9000/ws $args -progress=false \
		-server-pid "$pid" -label "floor $name" -json >"$OUT/floor-$name.json" 2>"$OUT/floor-$name.txt" || true
	echo "floor  $name: $(tail -1 "$OUT/floor-$name.txt")"
	stop

	data=$(mktemp -d)
	PARLEY_ACCESS_KEY_ID=$AKID PARLEY_SECRET_ACCESS_KEY=$SECRET "$OUT/parley" serve \
		--listen 127.0.0.1:18080 --data-dir "$data" --log-level error --api-rate-limits=false \
		--connection-rate -1 --max-room-rate 100000 >"$OUT/parley.log" 2>&1 &
	pid=$!
	wait_port 18080
	# shellcheck disable=SC2086
	"$OUT/fanout" -proto ivschat -url http://127.0.0.1:18080 -ws-url ws://127.0.0.1:18080/ \
		-access-key $AKID -secret-key $SECRET $args -progress=false \
		-server-pid "$pid" -label "parley $name" -json >"$OUT/parley-$name.json" 2>"$OUT/parley-$name.txt" || true
	echo "parley $name: $(tail -1 "$OUT/parley-$name.txt")"
	stop
	rm -rf "$data"
done

#!/usr/bin/env bash
# A short `parley bench` run against a fresh local server: a few hundred
# connections for a few seconds. It fails if any message is lost or
# duplicated (parley bench exits non-zero then).
set -euo pipefail
bin=${1:-bin/parley}
dir=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

"$bin" serve --listen 127.0.0.1:0 --data-dir "$dir" --log-level error \
	--api-rate-limits=false --connection-rate -1 --max-room-rate 100000 >"$dir/banner" &
pid=$!
addr=
for _ in $(seq 1 300); do
	addr=$(sed -n 's|.*control plane: *http://\([^ ]*\).*|\1|p' "$dir/banner")
	[ -n "$addr" ] && break
	kill -0 "$pid" || { echo "server exited"; cat "$dir/banner"; exit 1; }
	sleep 0.1
done
[ -n "$addr" ] || { echo "server did not start"; exit 1; }

"$bin" bench --url "http://$addr" --data-dir "$dir" --server-pid "$pid" \
	--conns 300 --rooms 3 --senders 3 --rate 300 --duration 3s --ramp 0 --quiet

# CreateChatToken alone for a second: fails on any failed call.
"$bin" bench --url "http://$addr" --data-dir "$dir" --server-pid "$pid" \
	--tokens-only --rooms 1 --duration 1s --dial-concurrency 16 --quiet

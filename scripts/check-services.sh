#!/usr/bin/env bash
# Says loudly which services the cluster suites need and cannot find here:
# PostgreSQL (PARLEY_TEST_DATABASE_URL, default the local server), NATS on
# 127.0.0.1:4222 and nginx. The Go tests skip those suites then; with
# PARLEY_REQUIRE_SERVICES=1 (CI) this script fails instead, and so do they.
set -uo pipefail
db=${PARLEY_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
missing=()
if command -v pg_isready >/dev/null; then
	pg_isready -q -d "$db" -t 5 || missing+=("PostgreSQL at $db")
else
	(exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null || missing+=("PostgreSQL at $db")
fi
(exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null || missing+=("NATS at 127.0.0.1:4222")
[ -x /usr/sbin/nginx ] || missing+=("nginx (apt-get install nginx)")
[ ${#missing[@]} -eq 0 ] && exit 0
{
	echo '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!'
	for m in "${missing[@]}"; do echo "!!! not found: $m"; done
	echo '!!! The PostgreSQL, NATS and cluster suites that need it are SKIPPED.'
	echo '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!'
} >&2
[ "${PARLEY_REQUIRE_SERVICES:-}" = 1 ] && { echo "PARLEY_REQUIRE_SERVICES=1: failing" >&2; exit 1; }
exit 0

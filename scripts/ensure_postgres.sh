#!/usr/bin/env bash
# The storage tests start a throwaway PostgreSQL from Debian's package. Install it when it
# is missing and we may (root with apt-get, as in CI); otherwise say what to do.
set -euo pipefail
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing PostgreSQL from Debian's packages for the storage tests…" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  exit 0
fi
echo "PostgreSQL is not installed: the PostgreSQL variants of the storage tests will be" \
     "skipped here (CI installs it). To run them: sudo apt-get install postgresql" >&2

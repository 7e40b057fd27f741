#!/usr/bin/env bash
# The Matrix end-to-end tests start a real Synapse homeserver on 127.0.0.1 (tests/matrix_server.py).
# Synapse pins many dependencies, so it lives in its own venv at .venv-synapse/, created and
# filled here only when `import synapse` fails there. Idempotent; quiet when nothing is to do.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-synapse
SYNAPSE_SPEC="matrix-synapse==1.163.*"
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import synapse" >/dev/null 2>&1; then
  exit 0
fi
echo "installing $SYNAPSE_SPEC into $VENV/ for the Matrix tests…" >&2
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$SYNAPSE_SPEC" >"$log" 2>&1; then
  cat "$log" >&2
  exit 1
fi
"$VENV/bin/python" -c "import synapse"

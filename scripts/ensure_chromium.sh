#!/usr/bin/env bash
# The web page tests drive a real browser: Debian's headless Chromium, through Playwright
# pointed at /usr/bin/chromium (Playwright's own browser download is not possible here).
# Install it when it is missing and we may (root with apt-get, as in CI): unattended, never
# asking. Otherwise say what to do and let the suite run: the browser tests then fail (they
# are never skipped).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Chromium from Debian's packages for the web page tests…" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq </dev/null
  apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    chromium chromium-driver fonts-dejavu-core </dev/null >/dev/null
  exit 0
fi
echo "Chromium is not installed: the web page tests will fail here." \
     "To run them: sudo apt-get install chromium" >&2

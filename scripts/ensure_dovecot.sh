#!/usr/bin/env bash
# The inbound e-mail tests read a real IMAP mailbox: Debian's Dovecot, started by the test
# setup in a temp dir (tests/dovecot.py). Install it when it is missing and we may (root with
# apt-get, as in CI): unattended, never asking, no system service started. Otherwise say what
# to do and let the suite run: the e-mail tests then fail (they are never skipped).
set -euo pipefail
if command -v dovecot >/dev/null && command -v doveadm >/dev/null; then
  exit 0
fi
if [ -x /usr/sbin/dovecot ] && [ -x /usr/bin/doveadm ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Dovecot (dovecot-imapd) from Debian's packages for the e-mail tests…" >&2
  export DEBIAN_FRONTEND=noninteractive
  # A container has no init system: policy-rc.d exit 101 keeps the package from starting
  # the system-wide service, which the tests do not use (they start their own Dovecot).
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    created_policy=1
  fi
  trap '[ "$created_policy" = 1 ] && rm -f "$policy"' EXIT
  apt-get update -qq </dev/null
  apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    dovecot-imapd </dev/null >/dev/null
  exit 0
fi
echo "Dovecot is not installed: the inbound e-mail tests will fail here." \
     "To run them: sudo apt-get install dovecot-imapd" >&2

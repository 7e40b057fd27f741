"""A throwaway Dovecot IMAP server on 127.0.0.1, for the inbound e-mail tests.

Debian's `dovecot-imapd` (`scripts/ensure_dovecot.sh` installs it) runs here with its own
config in a temp dir, not as the system service, and wholly unprivileged: every process,
the master included, runs as one ordinary user (`nobody` when the tests run as root, as
PostgreSQL runs as `postgres`; else the user running the tests), which owns the temp dir.
One plain-text IMAP listener on a free port on 127.0.0.1, users from a passwd-file, mail in
a Maildir per user. Each test gets its own mailbox with `new_mailbox()`; the passwd file is
re-read when it changes, so users are added to a running server. Stopped (and restarted)
by the pid in `master.pid`, never by name. Blocking (subprocess, imaplib), so it works from
session fixtures.
"""

from __future__ import annotations

import contextlib
import grp
import imaplib
import itertools
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.ports import free_port

START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0

_CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {user}
default_internal_user = {user}
default_internal_group = {group}
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=SHA512-CRYPT {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = {root}/passwd
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


def find_dovecot() -> tuple[Path, Path] | None:
    """The `dovecot` and `doveadm` binaries, or None when the package is missing."""
    found = []
    for name, fallback in (("dovecot", "/usr/sbin/dovecot"), ("doveadm", "/usr/bin/doveadm")):
        path = shutil.which(name) or (fallback if Path(fallback).exists() else None)
        if path is None:
            return None
        found.append(Path(path))
    return found[0], found[1]


class DovecotError(RuntimeError):
    """Dovecot is missing, did not start or did not stop."""


@dataclass(frozen=True)
class Mailbox:
    """One IMAP account on the test server."""

    host: str
    port: int
    user: str
    password: str


class Dovecot:
    """One Dovecot master process: `start()`, `new_mailbox()`, `append()`, `stop()`."""

    def __init__(self, extra_config: str = "") -> None:
        binaries = find_dovecot()
        if binaries is None:
            raise DovecotError(
                "Dovecot is not installed: run scripts/ensure_dovecot.sh "
                "(apt-get install dovecot-imapd)"
            )
        self.dovecot, self.doveadm = binaries
        self.root = Path(tempfile.mkdtemp(prefix="ag-dovecot-"))
        self.port = free_port()
        self.host = "127.0.0.1"
        self._users = itertools.count(1)
        self._lines: list[str] = []
        self._stamp = 0
        account = pwd.getpwnam("nobody") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
        self._user, self._uid, self._gid = account.pw_name, account.pw_uid, account.pw_gid
        group = grp.getgrgid(self._gid).gr_name
        self.root.chmod(0o755)
        for sub in ("run", "state", "mail"):
            (self.root / sub).mkdir()
        (self.root / "passwd").write_text("")
        (self.root / "passwd").chmod(0o644)
        config = _CONFIG.format(root=self.root, port=self.port, user=self._user, group=group)
        (self.root / "dovecot.conf").write_text(config + extra_config)
        if os.geteuid() == 0:
            for path in (self.root, *self.root.rglob("*")):
                os.chown(path, self._uid, self._gid)

    @property
    def config(self) -> Path:
        return self.root / "dovecot.conf"

    def start(self) -> Dovecot:
        # The daemon keeps its inherited stdout/stderr open: a file, not a pipe to wait on.
        with open(self.root / "start.log", "ab") as output:
            command = [str(self.dovecot), "-c", str(self.config)]
            if os.geteuid() == 0:
                command = ["runuser", "-u", self._user, "--", *command]
            result = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                timeout=START_TIMEOUT,
            )
        if result.returncode != 0:
            raise DovecotError(f"dovecot did not start\n{self.log()}")
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                with imaplib.IMAP4(self.host, self.port, timeout=2) as client:
                    client.noop()
                return self
            except OSError:
                time.sleep(0.05)
        raise DovecotError(f"dovecot did not answer on port {self.port}\n{self.log()}")

    def _pid(self) -> int | None:
        pid_file = self.root / "run" / "master.pid"
        try:
            return int(pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        """Stop the master by its pid and wait until the port is free again."""
        pid = self._pid()
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        raise DovecotError(f"dovecot (pid {pid}) did not stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        text = ""
        for name in ("start.log", "dovecot.log"):
            with contextlib.suppress(OSError):
                text += (self.root / name).read_text()[-4000:]
        return text

    def new_mailbox(self, password: str = "secret") -> Mailbox:
        """A fresh account with an empty INBOX."""
        user = f"bot{next(self._users)}"
        hashed = subprocess.run(
            [str(self.doveadm), "-c", str(self.config), "pw", "-s", "SHA512-CRYPT", "-p", password],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
        ).stdout.strip()
        home = self.root / "mail" / user
        self._lines.append(f"{user}:{hashed}:{self._uid}:{self._gid}::{home}")
        # Written whole and renamed. Auth re-reads the file when its mtime (whole seconds)
        # changed, and looks at most once a second: each version gets a later second than
        # the last, and the account is usable from the next second on.
        staging = self.root / "passwd.new"
        staging.write_text("\n".join(self._lines) + "\n")
        staging.chmod(0o644)
        self._stamp = max(int(time.time()), self._stamp + 1)
        os.utime(staging, (self._stamp, self._stamp))
        if os.geteuid() == 0:
            os.chown(staging, self._uid, self._gid)
        staging.replace(self.root / "passwd")
        while time.time() < self._stamp + 1.01:
            time.sleep(0.02)
        return Mailbox(self.host, self.port, user, password)

    def client(self, box: Mailbox) -> imaplib.IMAP4:
        client = imaplib.IMAP4(box.host, box.port, timeout=10)
        client.login(box.user, box.password)
        return client

    def append(self, box: Mailbox, raw: bytes, folder: str = "INBOX") -> None:
        """Deliver a message into the box, as an MTA would (IMAP APPEND)."""
        with self.client(box) as client:
            status, detail = client.append(folder, "", None, raw)
            if status != "OK":
                raise DovecotError(f"APPEND failed: {detail}")

    def flags(self, box: Mailbox, folder: str = "INBOX") -> list[str]:
        """The flags of every message in the box, in order (one string per message)."""
        with self.client(box) as client:
            client.select(folder)
            status, data = client.fetch("1:*", "(FLAGS)")
            if status != "OK" or data == [None]:
                return []
            return [item.decode() for item in data if isinstance(item, bytes)]

    def clear_flags(self, box: Mailbox, folder: str = "INBOX") -> None:
        """Remove every flag and keyword, as another client (or a lost STORE) might."""
        with self.client(box) as client:
            client.select(folder)
            status, data = client.fetch("1:*", "(FLAGS)")
            if status != "OK" or data == [None]:
                return
            for item in data:
                if not isinstance(item, bytes):
                    continue
                flags = item.decode().split("FLAGS (", 1)[1].split(")", 1)[0]
                if flags.strip():
                    client.store(item.decode().split(" ", 1)[0], "-FLAGS", f"({flags})")

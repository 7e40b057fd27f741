"""A throwaway Synapse homeserver on 127.0.0.1, for the Matrix end-to-end tests.

Synapse lives in its own venv (`scripts/ensure_synapse.sh` creates `.venv-synapse/`), or in
the one whose python `SYNAPSE_PYTHON` names. Each `Synapse` writes its config, SQLite database,
signing key, media store and logs to a fresh temp dir, listens on a free port on 127.0.0.1
(client API only, no federation) and is stopped by its pid.

By default a second config file lifts Synapse's rate limits so tests do not wait on them;
`strict_rate_limits=True` keeps the defaults (rc_message 0.2/s, burst 10) so 429 handling is
really exercised. Everything here is blocking (subprocess + urllib) so it works from
synchronous session fixtures and from any event loop; `aregister` runs `register` in a thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from tests.ports import free_port

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVER_NAME = "localhost"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0

# The rc_* settings the relaxed config overrides (see shared/TESTING.md).
_RELAXED = {"per_second": 1000, "burst_count": 1000}
RELAXED_RATE_LIMITS: dict[str, Any] = {
    "rc_message": _RELAXED,
    "rc_registration": _RELAXED,
    "rc_login": {"address": _RELAXED, "account": _RELAXED, "failed_attempts": _RELAXED},
    "rc_joins": {"local": _RELAXED, "remote": _RELAXED},
    "rc_joins_per_room": _RELAXED,
    "rc_invites": {"per_room": _RELAXED, "per_user": _RELAXED, "per_issuer": _RELAXED},
    "rc_room_creation": _RELAXED,
    "rc_media_create": _RELAXED,
    "rc_presence": {"per_user": _RELAXED},
}


def find_synapse_python() -> Path | None:
    """`$SYNAPSE_PYTHON`, else `<repo>/.venv-synapse/bin/python`, if it exists; else None."""
    configured = os.environ.get("SYNAPSE_PYTHON")
    candidate = Path(configured) if configured else REPO_ROOT / ".venv-synapse/bin/python"
    return candidate if candidate.exists() else None


class SynapseError(RuntimeError):
    """Synapse did not start, or answered an admin request with an error."""


class Synapse:
    """One homeserver process. `start()`, use `base_url`/`register()`, then `stop()`."""

    def __init__(
        self,
        *,
        strict_rate_limits: bool = False,
        python: Path | str | None = None,
        extra_config: dict[str, Any] | None = None,
    ) -> None:
        found = Path(python) if python else find_synapse_python()
        if found is None:
            raise SynapseError("Synapse is not installed: run scripts/ensure_synapse.sh")
        self.python = found
        self.strict_rate_limits = strict_rate_limits
        self.extra_config = extra_config  # read last: e.g. one rc_* limit set to a known value
        self.server_name = SERVER_NAME
        self.root: Path | None = None
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.startup_seconds: float | None = None
        self._shared_secret = secrets.token_hex(32)
        self._names = itertools.count(1)
        self._admin_token: str | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = START_TIMEOUT) -> Synapse:
        if self.process is not None:
            raise SynapseError("this Synapse is already started")
        self.root = Path(tempfile.mkdtemp(prefix="ag-synapse-"))
        self.port = free_port()
        configs = [self._write_config()]
        if not self.strict_rate_limits:
            relaxed = self.root / "relaxed.yaml"
            relaxed.write_text(json.dumps(RELAXED_RATE_LIMITS, indent=2))
            configs.append(relaxed)
        if self.extra_config:
            extra = self.root / "extra.yaml"
            extra.write_text(json.dumps(self.extra_config, indent=2))
            configs.append(extra)
        command = [str(self.python), "-m", "synapse.app.homeserver"]
        for config in configs:
            command += ["-c", str(config)]
        # Without --generate-keys Synapse's default mode is "generate missing files, then run":
        # the signing key is created on this first start, with no second interpreter start-up.
        began = time.monotonic()
        with open(self.root / "stdout.log", "wb") as output:
            self.process = subprocess.Popen(
                command,
                cwd=self.root,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop(keep_files=True)
            raise
        self.startup_seconds = time.monotonic() - began
        return self

    def _write_config(self) -> Path:
        assert self.root is not None
        root = self.root
        log_config = {
            "version": 1,
            "formatters": {"plain": {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"}},
            "handlers": {
                "file": {
                    "class": "logging.FileHandler",
                    "filename": str(root / "homeserver.log"),
                    "formatter": "plain",
                    "level": "WARNING",
                }
            },
            "root": {"level": "WARNING", "handlers": ["file"]},
            "disable_existing_loggers": False,
        }
        (root / "log.yaml").write_text(json.dumps(log_config, indent=2))
        config = {
            "server_name": self.server_name,
            "public_baseurl": self.base_url + "/",
            "pid_file": str(root / "homeserver.pid"),
            "listeners": [
                {
                    "port": self.port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            "database": {"name": "sqlite3", "args": {"database": str(root / "homeserver.db")}},
            "log_config": str(root / "log.yaml"),
            "media_store_path": str(root / "media_store"),
            "signing_key_path": str(root / "signing.key"),
            "registration_shared_secret": self._shared_secret,
            "macaroon_secret_key": secrets.token_hex(32),
            "form_secret": secrets.token_hex(32),
            "enable_registration": False,
            "report_stats": False,
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "federation_domain_whitelist": [],
            "presence": {"enabled": False},
            "url_preview_enabled": False,
            # Password hashing at the default cost (12) takes ~0.25 s per register/login.
            "bcrypt_rounds": 4,
        }
        path = root / "homeserver.yaml"
        path.write_text(json.dumps(config, indent=2))  # JSON is YAML
        return path

    def _wait_ready(self, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        url = self.base_url + "/_matrix/client/versions"
        while True:
            code = self.process.poll()
            if code is not None:
                raise SynapseError(f"Synapse exited with {code} on start:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                raise SynapseError(
                    f"Synapse did not answer {url} within {timeout:.0f} s:\n{self.log_tail()}"
                )
            time.sleep(0.1)

    def stop(self, *, keep_files: bool = False) -> None:
        """Terminate the process by its pid (SIGTERM, then SIGKILL after 10 s)."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT)
        if self.root is not None and not keep_files:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Synapse:
        return self.start() if self.process is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of Synapse's stdout/stderr and its WARNING+ log."""
        if self.root is None:
            return ""
        parts = []
        for name in ("stdout.log", "homeserver.log"):
            path = self.root / name
            if path.exists():
                text = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {path}\n" + "\n".join(text))
        return "\n".join(parts)

    # -- HTTP --------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        """A blocking JSON request to this server; raises SynapseError on a non-2xx answer."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")
            raise SynapseError(f"{method} {path} -> {error.code}: {detail}") from None

    # -- users -------------------------------------------------------------------------------

    def register(self, localpart: str, password: str, admin: bool = False) -> tuple[str, str]:
        """Create a user through the shared-secret admin API; returns (user_id, access_token)."""
        path = "/_synapse/admin/v1/register"
        nonce = self.request("GET", path)["nonce"]
        mac = hmac.new(self._shared_secret.encode(), digestmod=hashlib.sha1)
        for part in (nonce, localpart, password):
            mac.update(part.encode("utf-8"))
            mac.update(b"\x00")
        mac.update(b"admin" if admin else b"notadmin")
        body = {
            "nonce": nonce,
            "username": localpart,
            "password": password,
            "admin": admin,
            "mac": mac.hexdigest(),
        }
        result = self.request("POST", path, body)
        return result["user_id"], result["access_token"]

    async def aregister(
        self, localpart: str, password: str, admin: bool = False
    ) -> tuple[str, str]:
        """`register` off the event loop, for async tests with clients running."""
        return await asyncio.to_thread(self.register, localpart, password, admin)

    def unique_localpart(self, prefix: str = "user") -> str:
        """A localpart no other test on this (session-shared) server has used."""
        return f"{prefix}{next(self._names)}_{secrets.token_hex(3)}"

    def admin_token(self) -> str:
        """An access token of an admin user on this server, registered on first use."""
        if self._admin_token is None:
            _, self._admin_token = self.register(
                self.unique_localpart("admin"), secrets.token_hex(8), admin=True
            )
        return self._admin_token

    def override_ratelimit(self, user_id: str, admin_token: str | None = None) -> None:
        """Exempt one user from message rate limits (what a deployment does for its bot)."""
        quoted = urllib.parse.quote(user_id, safe="")
        self.request(
            "POST",
            f"/_synapse/admin/v1/users/{quoted}/override_ratelimit",
            {"messages_per_second": 0, "burst_count": 0},
            token=admin_token or self.admin_token(),
        )

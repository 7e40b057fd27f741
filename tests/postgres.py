"""A throwaway PostgreSQL cluster from Debian's package, for the storage tests.

initdb refuses to run as root, so as root the cluster runs as the `postgres` user. The
server listens on 127.0.0.1 on a free port and is stopped by its data directory (pg_ctl
uses the postmaster's pid file), never by process name.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.ports import free_port


def find_pg_bin() -> Path | None:
    """The newest /usr/lib/postgresql/<ver>/bin with initdb, or None."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if candidates:
        return Path(candidates[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@dataclass
class PostgresCluster:
    bin_dir: Path
    root: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    @classmethod
    def start(cls, bin_dir: Path) -> PostgresCluster:
        root = Path(tempfile.mkdtemp(prefix="ag-pg-"))
        (root / "sock").mkdir()
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
            shutil.chown(root / "sock", "postgres")
        cluster = cls(bin_dir, root, free_port())
        cluster._run(
            "initdb",
            "-D",
            str(root / "data"),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        cluster.start_server()
        return cluster

    def start_server(self) -> None:
        """Start (or start again, after `stop_server`) the server on its data directory."""
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root / 'sock'} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.root / "data"),
            "-w",
            "-t",
            "60",
            "-l",
            str(self.root / "log"),
            "-o",
            options,
            "start",
        )

    def stop_server(self) -> None:
        """Stop the server, keeping its data (a restart, e.g. in bench/faults.py)."""
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "fast", "-w", "stop")

    def create_database(self, name: str) -> str:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

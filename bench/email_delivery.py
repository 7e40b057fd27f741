"""E-mail through the outbox against a bare SMTP loop, with one kill -9 in the middle.

Path measured: 5,000 letters to 5,000 addresses queued in the outbox (SQLite) → the delivery
worker → the e-mail Sender (aiosmtplib, one kept-open connection) in a separate bot process
→ a local aiosmtpd server in this process, which counts Message-IDs. When half the mails
have arrived, the bot process is killed with SIGKILL and started again; it must finish the
rest without losing or repeating a mail (the chunk in flight at the kill is reported).

Baseline, in the same run: the same messages, prebuilt, sent by a bare aiosmtplib loop over
one connection to a second aiosmtpd server of the same kind. Like the bot, the loop runs in a
process of its own, talking to the server in this one. Run in this process instead, where
the server thread hands over to it without leaving the process, the same loop ran 1,323-1,547
mails/s against 967-1,173 from a process of its own (five runs of each, alternating) — a
placement the bot, which is killed with SIGKILL, can never have. It runs five times: twice
before the outbox run, once while the bot is down after the kill and twice after, and the
median of the five is taken: this machine's speed drifted by a fifth within a minute, so
one run before and one after made the ratio a lottery. `baseline_in_process_per_s` is one
run in this process, for comparison.

Figures (last line, one JSON object):
- mails_per_s: mails per second through the outbox while a bot process runs (the time from
  the kill to the first mail after the restart is left out; restart_gap_s is the part of it
  from starting the new process to its first mail;
  so are pauses over 1 s after it, reported as lease_wait_s: a worker leases at most two
  claims' worth of e-mail rows ahead (2 × 100), and those the killed process held are sent
  once its lease has run out, after the restarted process has sent the rest).
- baseline_per_s: the bare loop's mails per second (median of baseline_runs_per_s);
  ratio = mails_per_s / baseline_per_s (goal ≥ 0.8).
- lost: letters whose Message-ID never arrived and that are not reported to the admins as
  `uncertain` either (must be 0); duplicated: Message-IDs that arrived more than once
  (goal 0). SMTP cannot deduplicate, so the mail in flight at the kill is not sent again
  but marked uncertain: `uncertain` counts those rows, `uncertain_arrived` how many of them
  did reach the server (the kill came after its 250); failed: rows that failed.
- pipelining: whether the server offered PIPELINING (aiosmtplib does not pipeline).
- peak_rss_mb: the bot processes' peak resident memory.
"""

# ruff: noqa: E402 - the import path is fixed first (see below)
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiosmtplib

from bot.adapters.email.mime import message_id, render_mail
from bot.adapters.email.sender import mail_sender, sender_address
from bot.app import Core, freeze_startup_objects
from bot.core.mail import MailContent, to_outgoing
from bot.core.settings import Settings, load_settings
from storage import mail as mail_store
from storage.outbox import counts_by_status, uncertain_rows
from tests.smtp_server import SmtpServer

MAIL_FROM = "AG-Assistent <ag@bench.example.org>"
# Short, so the restarted process takes over the killed one's rows soon (default 120 s).
LEASE_SECONDS = float(os.environ.get("BENCH_LEASE_SECONDS", "30"))
TEXT = (
    "Sehr geehrte Frau Beispiel,\n\nIhre Autorisierung als Beraterin endet am 31.12.2021. "
    "Bitte nehmen Sie bis dahin an einem Erfahrungsaustausch teil.\n\n"
    "Kommende Termine:\n• 20.01.2022, 9:00–12:00 Uhr, IHK Köln\n"
    "• 03.02.2022, 13:00–16:00 Uhr, HWK München\n"
)


def letter(index: int) -> MailContent:
    return MailContent(
        subject=f"Ihre Autorisierung als Berater*in: erste Erinnerung ({index})",
        text=TEXT,
        language="de",
    )


def address(index: int) -> str:
    return f"berater{index}@example.org"


def settings_for(database_url: str, port: int) -> Settings:
    return load_settings(
        _env_file=None,
        database_url=database_url,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="plain",
        mail_from=MAIL_FROM,
        mail_per_minute=100_000,
        outbox_poll_seconds=0.05,
        outbox_lease_seconds=LEASE_SECONDS,
    )


async def seed(database_url: str, count: int) -> None:
    core = await Core.create(load_settings(_env_file=None, database_url=database_url))
    now = core.services.clock.now()
    try:
        for start in range(0, count, 500):
            async with core.services.sessions.begin() as session:
                for index in range(start, min(start + 500, count)):
                    await mail_store.enqueue_mail(
                        session,
                        address=address(index),
                        dedupe_key=f"bench-letter:{index}",
                        purpose="advisor_escalation",
                        message=to_outgoing(letter(index)),
                        now=now,
                    )
    finally:
        await core.close()


async def run_bot(database_url: str, port: int) -> None:
    """The child: the bot's delivery side as `bot.app.run_adapters` wires it, until SIGTERM."""
    settings = settings_for(database_url, port)
    core = await Core.create(settings)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    mail = mail_sender(settings, core.services.clock)
    core.start_delivery([mail])
    core.pace_mail(mail)
    freeze_startup_objects()
    try:
        await stop.wait()
    finally:
        await core.close()
        await mail.close()


class MessageIds:
    """Message-IDs the server received, counted as they come (only new mails are parsed)."""

    def __init__(self, server: SmtpServer) -> None:
        self.server = server
        self.seen = 0
        self.ids: Counter[str] = Counter()

    def update(self) -> Counter[str]:
        received = self.server.received
        for mail in received[self.seen : len(received)]:
            self.seen += 1
            for line in mail.data.split(b"\r\n"):
                if line.lower().startswith(b"message-id:"):
                    self.ids[line.split(b":", 1)[1].strip().decode()] += 1
                    break
                if not line:
                    break
        return self.ids


def start_bot(database_url: str, port: int) -> asyncio.subprocess.Process:
    return asyncio.create_subprocess_exec(  # type: ignore[return-value]
        sys.executable,
        __file__,
        "--child",
        database_url,
        str(port),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def arrived(server: SmtpServer, at_least: int, within: float) -> float:
    """When at least `at_least` mails had arrived (checked every 5 ms)."""
    deadline = time.monotonic() + within
    while len(server.received) < at_least:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {len(server.received)} of {at_least} mails arrived")
        await asyncio.sleep(0.005)
    return time.monotonic()


async def through_outbox(database_url: str, count: int, bases: list[float]) -> dict[str, object]:
    """The outbox run; one baseline run goes into `bases` while the bot is down after the
    kill (that pause is left out of the rate), so the baselines bracket both halves."""
    server = SmtpServer().start()
    try:
        counted = MessageIds(server)
        first = await start_bot(database_url, server.port)
        started = await arrived(server, 1, 120)
        killed_at = await arrived(server, count // 2, 600)
        first.kill()  # SIGKILL: no shutdown, leases and half-done attempts stay behind
        await first.wait()
        before_kill = len(server.received)
        bases.append(await baseline(count))
        restarted = time.monotonic()
        second = await start_bot(database_url, server.port)
        resumed = await arrived(server, before_kill + 1, 120)
        finished, lease_wait = await all_sent(server, counted, database_url, count)
        await asyncio.sleep(2.0)  # anything sent twice late still counts
        second.send_signal(signal.SIGTERM)
        _, err = await second.communicate()
        if second.returncode not in (0, -signal.SIGTERM):
            print(err.decode()[-2000:], file=sys.stderr)
        ids = counted.update()
        after_restart = len(server.received) - before_kill
        active = (killed_at - started) + (finished - resumed) - lease_wait
        pipelining = await offers_pipelining(server.port)
    finally:
        server.stop()
    expected = {f"<outbox-{n}@bench.example.org>" for n in range(1, count + 1)}
    states, unsure = await outbox_states(database_url, count)
    reported = {f"<outbox-{n}@bench.example.org>" for n in unsure}
    return {
        "mails_per_s": round((count - 1) / active, 1),
        "delivered": len(ids),
        "lost": len(expected - set(ids) - reported),
        "duplicated": sum(n - 1 for n in ids.values() if n > 1),
        "unexpected": len(set(ids) - expected),
        "restart_gap_s": round(resumed - restarted, 2),
        "lease_wait_s": round(lease_wait, 2),
        "killed_after": before_kill,
        "sent_after_restart": after_restart,
        "uncertain": len(unsure),
        "uncertain_arrived": len(reported & set(ids)),
        "failed": states.get("failed", 0),
        "pipelining": pipelining,
    }


async def all_sent(
    server: SmtpServer, counted: MessageIds, database_url: str, count: int
) -> tuple[float, float]:
    """When the last mail arrived, and how long mails stopped coming meanwhile (pauses over
    1 s: the rows the killed process had claimed wait for its lease to run out).

    Done when every Message-ID is there, or (mails the kill left `uncertain` are never sent
    again, so some may never come) nothing arrived for 3 s and no row is left to send."""
    last = time.monotonic()
    deadline = last + 600
    waited = 0.0
    while len(counted.update()) < count:
        try:
            now = await arrived(server, counted.seen + 1, 3.0)
        except TimeoutError:
            states, _ = await outbox_states(database_url, count)
            if not states.get("pending") and not states.get("sending"):
                break
            if time.monotonic() > deadline:
                raise
            continue
        if now - last > 1.0:
            waited += now - last
        last = now
    return last, waited


async def outbox_states(database_url: str, count: int) -> tuple[dict[str, int], list[int]]:
    """Rows per state, and the ids of the `uncertain` ones (reported to admins)."""
    core = await Core.create(load_settings(_env_file=None, database_url=database_url))
    try:
        async with core.services.sessions() as session:
            unsure = await uncertain_rows(session, limit=count)
            return await counts_by_status(session), [row.id for row in unsure]
    finally:
        await core.close()


async def offers_pipelining(port: int) -> bool:
    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
    await smtp.connect()
    try:
        return smtp.supports_extension("pipelining")
    finally:
        await smtp.quit()


async def baseline(count: int, *, in_process: bool = False) -> float:
    """Mails per second of the bare loop (`bare_loop`) against a fresh server in this process,
    run in a child process like the bot (or here, `in_process`)."""
    server = SmtpServer().start()
    try:
        if in_process:
            rate = await bare_loop(server.port, count)
        else:
            child = await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--baseline-child",
                str(server.port),
                str(count),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
            )
            out, _ = await child.communicate()
            if child.returncode != 0:
                raise RuntimeError(f"the baseline loop failed ({child.returncode})")
            rate = float(out.decode().strip().splitlines()[-1])
        assert len(server.received) == count
    finally:
        server.stop()
    return rate


async def bare_loop(port: int, count: int) -> float:
    """The same messages, prebuilt, over one connection by a bare aiosmtplib loop."""
    sender = sender_address(MAIL_FROM)
    now = datetime.now(UTC)
    prebuilt = [
        (
            address(n),
            render_mail(
                letter(n),
                sender=sender,
                recipient=address(n),
                msgid=message_id(f"outbox-{n + 1}", "bench.example.org"),
                date=now,
            ),
        )
        for n in range(count)
    ]
    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
    await smtp.connect()
    started = time.monotonic()
    for recipient, data in prebuilt:
        await smtp.sendmail(sender.addr_spec, [recipient], data)
    elapsed = time.monotonic() - started
    await smtp.quit()
    return count / elapsed


@contextlib.contextmanager
def database(tmp: Path, postgres: bool) -> Iterator[str]:
    """A fresh SQLite file (the embedded default), or a database on a throwaway PostgreSQL
    cluster like the test suite's (tests/postgres.py)."""
    if not postgres:
        yield f"sqlite:///{tmp / 'bench.db'}"
        return
    from tests.postgres import PostgresCluster, find_pg_bin

    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise SystemExit("PostgreSQL is not installed (scripts/ensure_postgres.sh)")
    cluster = PostgresCluster.start(bin_dir)
    try:
        yield cluster.create_database("bench_email")
    finally:
        cluster.stop()


async def main(count: int, postgres: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp, database(Path(tmp), postgres) as database_url:
        await seed(database_url, count)
        bases = [await baseline(count), await baseline(count)]
        figures = await through_outbox(database_url, count, bases)
        bases += [await baseline(count), await baseline(count)]
        in_process = await baseline(count, in_process=True)
    base = statistics.median(bases)
    rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = {
        "database": "postgresql" if postgres else "sqlite",
        "count": count,
        "mails_per_s": figures["mails_per_s"],
        "baseline_per_s": round(base, 1),
        "baseline_runs_per_s": [round(b, 1) for b in bases],
        "baseline_in_process_per_s": round(in_process, 1),
        "ratio": round(float(figures["mails_per_s"]) / base, 3),  # type: ignore[arg-type]
        **{k: v for k, v in figures.items() if k != "mails_per_s"},
        "peak_rss_mb": round(rss_kb / 1024, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_bot(sys.argv[2], int(sys.argv[3])))
        raise SystemExit(0)
    if len(sys.argv) > 1 and sys.argv[1] == "--baseline-child":
        print(asyncio.run(bare_loop(int(sys.argv[2]), int(sys.argv[3]))))
        raise SystemExit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument(
        "--postgres", action="store_true", help="the outbox on PostgreSQL instead of SQLite"
    )
    args = parser.parse_args()
    os.environ.setdefault("PYTHONHASHSEED", "0")
    asyncio.run(main(args.count, args.postgres))

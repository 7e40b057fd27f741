"""E-mail through the outbox to a real SMTP server (aiosmtpd): delivered once with a stable
Message-ID, 4xx and dropped connections retried, a refused mailbox marked unreachable and
reported; without SMTP, `.eml` files."""

from __future__ import annotations

from datetime import timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.adapters.email.sender import EmlSender, SmtpSender, default_mail_dir, mail_sender
from bot.app import Core
from bot.core.clock import FixedClock
from bot.core.enums import OutboxStatus
from bot.core.mail import MailContent, to_outgoing
from bot.core.settings import Settings, load_settings
from bot.outbox.worker import DeliveryWorker, WorkerPolicy
from handlers.delivery.uncertain import report_uncertain
from handlers.email.failures import report_failed_mail
from storage import mail as mail_store
from storage import outbox as outbox_store
from storage.models import EmailAddress, OutboxMessage, User
from tests.smtp_server import Mode, SmtpServer

ADDRESS = "anna.muster@example.org"


def smtp_settings(core: Core, server: SmtpServer, **more: object) -> Settings:
    return load_settings(
        database_url=core.settings.database_url,
        smtp_host="127.0.0.1",
        smtp_port=server.port,
        smtp_security="plain",
        mail_from="AG-Assistent <ag@bot.example.org>",
        _env_file=None,
        **{"mail_per_minute": 6000, **more},
    )


async def queue_mail(core: Core, key: str = "letter:1", address: str = ADDRESS) -> int:
    clock = core.services.clock
    async with core.services.sessions.begin() as session:
        await mail_store.enqueue_mail(
            session,
            address=address,
            dedupe_key=key,
            purpose="test_mail",
            message=to_outgoing(
                MailContent(subject="Grüße – „Test“", text="Hallo Anna,\nÄÖÜß.", language="de")
            ),
            now=clock.now(),
        )
        return await session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.dedupe_key.like(f"{key}:%"))
        )


def worker(core: Core, sender: SmtpSender | EmlSender) -> DeliveryWorker:
    return DeliveryWorker(
        core.services.sessions,
        {"email": sender},
        core.services.clock,
        WorkerPolicy(poll_seconds=0.05, backoff_base_seconds=1.0),
        jitter=lambda: 0.5,
    )


async def row(core: Core, row_id: int) -> OutboxMessage:
    async with core.services.sessions() as session:
        found = await session.get(OutboxMessage, row_id)
        assert found is not None
        return found


async def test_a_mail_arrives_once_with_its_rows_message_id(
    core: Core, smtp_server: SmtpServer
) -> None:
    sender = SmtpSender(smtp_settings(core, smtp_server), core.services.clock)
    row_id = await queue_mail(core)
    await queue_mail(core)  # the same purpose and recipient again: no second mail
    await worker(core, sender).run_once()
    await sender.close()

    assert len(smtp_server.received) == 1
    received = smtp_server.received[0]
    assert received.rcpt_tos == [ADDRESS]
    assert received.mail_from == "ag@bot.example.org"
    mail = received.message()
    assert mail["Message-ID"] == f"<outbox-{row_id}@bot.example.org>"
    assert mail["Subject"] == "Grüße – „Test“"
    assert mail["MIME-Version"] == "1.0"
    assert parsedate_to_datetime(mail["Date"]) == core.services.clock.now()
    assert "ÄÖÜß" in mail.get_body(("plain",)).get_content()
    assert (await row(core, row_id)).status == OutboxStatus.SENT.value


async def test_the_connection_is_kept_open_for_the_next_mails(
    core: Core, smtp_server: SmtpServer
) -> None:
    sender = SmtpSender(smtp_settings(core, smtp_server), core.services.clock)
    for n in range(5):
        await queue_mail(core, key=f"letter:{n}", address=f"person{n}@example.org")
    await worker(core, sender).run_once()
    await sender.close()
    assert len(smtp_server.received) == 5
    assert smtp_server.handler.connections == 1


@pytest.mark.parametrize("mode", [Mode.TEMPORARY, Mode.DROP])
async def test_a_temporary_refusal_or_a_cut_connection_is_retried_with_the_same_message_id(
    core: Core, smtp_server: SmtpServer, clock: FixedClock, mode: Mode
) -> None:
    sender = SmtpSender(smtp_settings(core, smtp_server), clock)
    row_id = await queue_mail(core)
    smtp_server.set_mode(mode)
    await worker(core, sender).run_once()
    first = await row(core, row_id)
    assert first.status == OutboxStatus.PENDING.value
    assert first.attempts == 1
    assert smtp_server.received == []

    smtp_server.set_mode(Mode.ACCEPT)
    clock.advance(timedelta(minutes=1))
    await worker(core, sender).run_once()
    await sender.close()
    assert [r.message()["Message-ID"] for r in smtp_server.received] == [
        f"<outbox-{row_id}@bot.example.org>"
    ]
    assert (await row(core, row_id)).status == OutboxStatus.SENT.value


async def test_a_refused_mailbox_is_marked_unreachable_and_reported_once(
    core: Core, smtp_server: SmtpServer, clock: FixedClock
) -> None:
    async with core.services.sessions.begin() as session:
        user = User(created_at=clock.now())
        session.add(user)
        await session.flush()
        session.add(
            EmailAddress(
                user_id=user.id,
                address=ADDRESS,
                address_key=ADDRESS,
                created_at=clock.now(),
                confirmed_at=clock.now(),
            )
        )
    sender = SmtpSender(smtp_settings(core, smtp_server), clock)
    row_id = await queue_mail(core)
    smtp_server.handler.refused.add(ADDRESS)
    await worker(core, sender).run_once()
    await sender.close()
    failed = await row(core, row_id)
    assert failed.status == OutboxStatus.FAILED.value
    assert failed.last_error.startswith("mailbox refused: 550")

    core.services.settings = smtp_settings(core, smtp_server, admin_chats="telegram:-100777")
    assert await report_failed_mail(core.services, clock.now()) == 1
    assert await report_failed_mail(core.services, clock.now()) == 0  # once
    async with core.services.sessions() as session:
        address = await session.scalar(select(EmailAddress))
        assert address.unreachable_at == clock.now()
        assert "550" in (address.unreachable_reason or "")
        reports = list(
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.purpose == "mail_failed")
            )
        )
    assert [r.chat_id for r in reports] == ["-100777"]
    assert ADDRESS in reports[0].payload["text"]


async def test_without_smtp_mail_becomes_eml_files_next_to_the_database(
    core: Core, tmp_path: Path
) -> None:
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'bot.db'}", _env_file=None)
    sender = mail_sender(settings, core.services.clock)
    assert isinstance(sender, EmlSender)
    assert sender.folder == default_mail_dir(settings) == tmp_path / "mail"
    row_id = await queue_mail(core)
    for _ in range(2):  # delivered twice (e.g. after a crash): still one file
        async with core.services.sessions.begin() as session:
            await session.execute(
                OutboxMessage.__table__.update()
                .where(OutboxMessage.id == row_id)
                .values(status=OutboxStatus.PENDING.value)
            )
        await worker(core, sender).run_once()
    files = list((tmp_path / "mail").glob("*.eml"))
    assert [f.name for f in files] == [f"outbox-{row_id}.eml"]
    assert f"<outbox-{row_id}@localhost>" in files[0].read_text()


async def test_a_kill_between_the_servers_250_and_mark_sent_is_reported_not_sent_twice(
    core: Core, smtp_server: SmtpServer, clock: FixedClock
) -> None:
    """The process got the server's 250 and died before recording it: SMTP cannot tell
    whether the mail arrived, so the row is `uncertain` and reported, never mailed again."""
    row_id = await queue_mail(core)
    sender = SmtpSender(smtp_settings(core, smtp_server), clock)
    dead = worker(core, sender)
    [claimed] = await _claim(core, dead)
    async with core.services.sessions.begin() as session:  # what the worker commits first
        assert await outbox_store.start_attempt(
            session, row_id, owner=dead.owner, now=clock.now(), lease=dead.policy.lease
        )
    await sender.deliver(claimed.chat_id, claimed.message, key=f"outbox-{row_id}")
    await sender.close()  # … and here it was killed: no mark_sent
    assert len(smtp_server.received) == 1

    clock.advance(dead.policy.lease + timedelta(seconds=1))
    restarted = SmtpSender(smtp_settings(core, smtp_server), clock)
    await worker(core, restarted).run_once()
    await restarted.close()
    assert [r.message()["Message-ID"] for r in smtp_server.received] == [
        f"<outbox-{row_id}@bot.example.org>"
    ]
    assert (await row(core, row_id)).status == OutboxStatus.UNCERTAIN.value
    core.services.settings = smtp_settings(core, smtp_server, admin_chats="telegram:-100777")
    assert await report_uncertain(core.services, clock.now()) == 1


async def _claim(core: Core, by: DeliveryWorker) -> list[outbox_store.Delivery]:
    async with core.services.sessions.begin() as session:
        return await outbox_store.claim_due(
            session, owner=by.owner, now=core.services.clock.now(), lease=by.policy.lease, limit=10
        )


@pytest.mark.parametrize(("per_minute", "mails", "chunk"), [(6000, 12, 5), (120, 3, 1)])
async def test_a_kill_leaves_at_most_one_chunk_of_mails_uncertain(
    core: Core, smtp_server: SmtpServer, clock: FixedClock, per_minute: int, mails: int, chunk: int
) -> None:
    """Mails go out in chunks over the one connection: only the chunk being sent has
    committed its attempts (so a kill at any moment leaves at most that chunk uncertain),
    and a chunk spans at most 50 ms of MAIL_PER_MINUTE (one mail at a time when slow)."""
    ids = [await queue_mail(core, f"letter:{n}", f"person{n}@example.org") for n in range(mails)]
    sender = SmtpSender(smtp_settings(core, smtp_server, mail_per_minute=per_minute), clock)
    in_flight: list[int] = []
    send = sender._send

    async def watched(address: str, data: bytes) -> None:
        async with core.services.sessions() as session:
            attempted = await session.scalars(
                select(OutboxMessage.id).where(
                    OutboxMessage.attempted_at.is_not(None),
                    OutboxMessage.status == OutboxStatus.SENDING.value,
                )
            )
            in_flight.append(len(list(attempted)))
        await send(address, data)

    sender._send = watched  # type: ignore[method-assign]
    await worker(core, sender).run_once()
    await sender.close()
    assert len(smtp_server.received) == len(ids)
    assert max(in_flight) == chunk
    assert len(in_flight) == len(ids)
    statuses = {r.status for r in [await row(core, i) for i in ids]}
    assert statuses == {OutboxStatus.SENT.value}


async def test_in_a_chunk_each_mail_keeps_its_own_outcome(
    core: Core, smtp_server: SmtpServer, clock: FixedClock
) -> None:
    """A refused mailbox fails only its own row; the others in the chunk are sent. A cut
    connection (nothing accepted) is retried later, never turned uncertain."""
    ids = [await queue_mail(core, f"letter:{n}", f"person{n}@example.org") for n in range(5)]
    smtp_server.handler.refused.add("person2@example.org")
    sender = SmtpSender(smtp_settings(core, smtp_server), clock)
    await worker(core, sender).run_once()
    statuses = [(await row(core, i)).status for i in ids]
    assert statuses == ["sent", "sent", "failed", "sent", "sent"]
    assert len(smtp_server.received) == 4

    more = [await queue_mail(core, f"later:{n}", f"other{n}@example.org") for n in range(3)]
    smtp_server.set_mode(Mode.DROP)
    await worker(core, sender).run_once()
    await sender.close()
    rows = [await row(core, i) for i in more]
    assert {(r.status, r.attempts) for r in rows} == {(OutboxStatus.PENDING.value, 1)}
    assert len(smtp_server.received) == 4


async def test_an_umlaut_domain_goes_out_in_ascii_and_umlauts_before_the_at_fail_at_once(
    core: Core, smtp_server: SmtpServer
) -> None:
    """Without SMTPUTF8 an address must travel in ASCII: a domain with umlauts in its IDNA
    form, in RCPT TO and in the To header. A mailbox name with umlauts has no ASCII form:
    its row fails as a refused mailbox (the admins are told) and the rest of the chunk
    goes out, instead of the server rejecting it again on every retry."""
    idn = await queue_mail(core, "letter:idn", "anna@bücher.de")
    utf8 = await queue_mail(core, "letter:utf8", "jörg@example.org")
    plain = await queue_mail(core, "letter:plain", "berta@example.org")
    sender = SmtpSender(
        smtp_settings(core, smtp_server, mail_per_minute=6000), core.services.clock
    )  # in one chunk
    await worker(core, sender).run_once()
    await sender.close()
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == [
        "anna@xn--bcher-kva.de",
        "berta@example.org",
    ]
    assert {r.message()["To"] for r in smtp_server.received} == {
        "anna@xn--bcher-kva.de",
        "berta@example.org",
    }
    assert (await row(core, idn)).status == OutboxStatus.SENT.value
    assert (await row(core, plain)).status == OutboxStatus.SENT.value
    failed = await row(core, utf8)
    assert failed.status == OutboxStatus.FAILED.value
    assert (failed.last_error or "").startswith("mailbox refused: umlauts before the @")

"""CSV import and export of the advisor registry (used by the `advisors` CLI commands).

Import is all or nothing: every row is validated first and every problem is reported with
its line number; only a clean file is written, in one transaction. Rows are matched to
existing advisors by the `id` column when given, else by e-mail, so importing the same file
again (or a file made by export) changes nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.dates import DateParseError, parse_date
from bot.core.enums import AuthorizationSource, ListingStatus
from handlers.advisors import actions
from handlers.advisors.consent import ConsentError, parse_consent, stored
from handlers.advisors.csv_cells import escape_cell, unescape_cell
from handlers.advisors.policy import EscalationPolicy
from handlers.email.typed_address import (
    EmailNotValidError,
    UnsendableAddress,
    checked_address,
)
from storage import advisors as advisor_store
from storage.db import Session
from storage.models import Advisor

COLUMNS = (
    "id",
    "name",
    "email",
    "institution",
    "fields",
    "language",
    "authorized_on",
    "status",
    "region",
    "published",
)
REQUIRED = ("name", "email", "institution", "authorized_on")
EXPORT_COLUMNS = (*COLUMNS, "authorizations", "linked", "next_step_on")
LINK_CODE_COLUMNS = ("link_code", "link_code_valid_until")
ADVISOR_CODE = "advisor"  # the link code purpose, as /beratercode makes them
LANGUAGES = {"de", "en"}
STATUSES = {"", ListingStatus.LISTED.value, ListingStatus.DELISTED.value}


@dataclass(frozen=True)
class Row:
    line: int
    id: int | None
    name: str
    email: str
    institution: str
    fields: str
    language: str
    authorized_on: date
    status: str
    # None: the file has no such column; an existing entry then keeps its value (a file from
    # before the public list must not withdraw anyone's consent), a new one gets none.
    region: str | None = None
    published: str | None = None  # the consent as stored (consent.stored)


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.column}: {self.message}"


def parse_rows(
    text: str, *, today: date, tz: ZoneInfo, default_language: str
) -> tuple[list[Row], list[RowError]]:
    """Validate the whole file (pure); rows are only usable if there are no errors."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        return [], [RowError(1, ",".join(missing), "column missing in the header line")]
    reader.fieldnames = header
    now = datetime(today.year, today.month, today.day, 12, tzinfo=tz)
    rows: list[Row] = []
    errors: list[RowError] = []
    seen_emails: dict[str, int] = {}
    seen_ids: dict[int, int] = {}
    for record in reader:
        line = reader.line_num
        value = {k: unescape_cell((v or "").strip()) for k, v in record.items() if k is not None}
        if not any(value.values()):
            continue
        problems: list[RowError] = []
        for column in REQUIRED:
            if not value.get(column):
                problems.append(RowError(line, column, "empty"))
        email = value.get("email", "").lower()
        if email and (unusable := _unusable_address(email)):
            problems.append(RowError(line, "email", unusable))
        elif email in seen_emails:
            problems.append(
                RowError(line, "email", f"{email} appears already in line {seen_emails[email]}")
            )
        advisor_id = None
        if raw_id := value.get("id"):
            if not raw_id.isdigit():
                problems.append(RowError(line, "id", f"{raw_id!r} is not a number"))
            elif int(raw_id) in seen_ids:
                problems.append(
                    RowError(
                        line, "id", f"{raw_id} appears already in line {seen_ids[int(raw_id)]}"
                    )
                )
            else:
                advisor_id = int(raw_id)
        day = None
        if raw_day := value.get("authorized_on"):
            try:
                day = parse_date(raw_day, now=now, tz=tz, prefer_future=False)
            except DateParseError:
                problems.append(
                    RowError(line, "authorized_on", f"{raw_day!r} is no date (2021-03-15)")
                )
            else:
                if day > today:
                    problems.append(RowError(line, "authorized_on", "lies in the future"))
        language = value.get("language", "").lower() or default_language
        if language not in LANGUAGES:
            problems.append(RowError(line, "language", f"{language!r} is not de or en"))
        status = value.get("status", "").lower()
        if status not in STATUSES:
            problems.append(RowError(line, "status", f"{status!r} is not listed or delisted"))
        published = None
        if "published" in header:
            try:
                published = stored(parse_consent(value.get("published", "")))
            except ConsentError as exc:
                problems.append(
                    RowError(
                        line,
                        "published",
                        f"{exc.word!r} is not one of name, fields, region, institution, "
                        "contact, all, nothing",
                    )
                )
        for column, limit in (
            ("name", 200),
            ("institution", 200),
            ("fields", 500),
            ("region", 200),
        ):
            if len(value.get(column, "")) > limit:
                problems.append(RowError(line, column, f"longer than {limit} characters"))
        if problems:
            errors += problems
            continue
        assert day is not None
        seen_emails[email] = line
        if advisor_id is not None:
            seen_ids[advisor_id] = line
        rows.append(
            Row(
                line=line,
                id=advisor_id,
                name=value["name"],
                email=email,
                institution=value["institution"],
                fields=value.get("fields", ""),
                language=language,
                authorized_on=day,
                status=status,
                region=value.get("region", "") if "region" in header else None,
                published=published,
            )
        )
    return rows, errors


async def check_against_database(session: Session, rows: list[Row]) -> list[RowError]:
    """Ids that do not exist, and e-mail addresses that belong to another advisor."""
    errors: list[RowError] = []
    by_email = await advisor_store.ids_by_email(session, [r.email for r in rows])
    known_ids = await advisor_store.existing_ids(session, [r.id for r in rows if r.id is not None])
    for row in rows:
        if row.id is not None and row.id not in known_ids:
            errors.append(RowError(row.line, "id", f"there is no advisor {row.id}"))
        owner = by_email.get(row.email)
        if row.id is not None and owner is not None and owner != row.id:
            errors.append(RowError(row.line, "email", f"{row.email} belongs to advisor {owner}"))
    return errors


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    renewed: int = 0


async def apply_rows(
    session: Session,
    rows: list[Row],
    *,
    policy: EscalationPolicy | None,
    now: datetime,
    progress: Callable[[int], None] = lambda n: None,
) -> ImportResult:
    """Write validated rows (call inside one transaction)."""
    result = ImportResult()
    by_email = await advisor_store.ids_by_email(session, [r.email for r in rows if r.id is None])
    for row in rows:
        advisor_id = row.id if row.id is not None else by_email.get(row.email)
        if advisor_id is None:
            advisor = await actions.create_advisor(
                session,
                name=row.name,
                email=row.email,
                institution=row.institution,
                fields=row.fields,
                language=row.language,
                authorized_on=row.authorized_on,
                source=AuthorizationSource.IMPORT,
                now=now,
                policy=policy,
            )
            advisor.region = row.region or ""
            _set_published(advisor, row, now)
            result.created += 1
            if row.status == ListingStatus.DELISTED.value:
                await _delist(session, advisor, row.authorized_on, now, policy)
        else:
            advisor = await advisor_store.advisor_by_id(session, advisor_id)
            assert advisor is not None
            changed = False
            if advisor.email is None or advisor.email.lower() != row.email.lower():
                advisor_store.set_email(advisor, row.email)  # a new address is tried again
                changed = True
            for column in ("name", "email", "institution", "fields", "language", "region"):
                new = getattr(row, column)
                if new is not None and getattr(advisor, column) != new:
                    setattr(advisor, column, new)
                    changed = True
            changed |= _set_published(advisor, row, now)
            if await actions.add_authorization(
                session,
                advisor,
                row.authorized_on,
                source=AuthorizationSource.IMPORT,
                now=now,
                policy=policy,
            ):
                result.renewed += 1
                changed = True
            if row.status == ListingStatus.DELISTED.value and advisor.status != row.status:
                await _delist(session, advisor, row.authorized_on, now, policy)
                changed = True
            if changed:
                advisor.updated_at = now
                result.updated += 1
            else:
                result.unchanged += 1
        progress(1)
    return result


def _set_published(advisor: Advisor, row: Row, now: datetime) -> bool:
    """Take the file's consent, if it has the column; True if it changed."""
    if row.published is None or row.published == advisor.published:
        return False
    advisor.published = row.published
    advisor.published_changed_at = now
    return True


async def _delist(
    session: Session,
    advisor: Advisor,
    cycle_start: date,
    now: datetime,
    policy: EscalationPolicy | None,
) -> None:
    """An imported delisting, recorded like the policy's so a renewal relists."""
    await actions.delist(
        session, advisor, cycle_start=cycle_start, due_on=now.date(), now=now, policy=policy
    )


@dataclass(frozen=True)
class LinkCodes:
    """Export with a fresh one-time link code for every advisor not linked yet, so an
    admin can hand them all out at once (mail merge) instead of one /beratercode each."""

    now: datetime
    valid_for: timedelta


async def export_csv(session: Session, link_codes: LinkCodes | None = None) -> str:
    """The registry as CSV; importing it again changes nothing (the link code columns are
    not read by the import). With `link_codes` (call inside a transaction), unlinked
    advisors get a new code in `link_code`, valid until `link_code_valid_until`."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow((*EXPORT_COLUMNS, *LINK_CODE_COLUMNS) if link_codes else EXPORT_COLUMNS)
    dates = await advisor_store.authorization_days(session)
    for advisor in await advisor_store.all_advisors(session):
        days = dates.get(advisor.id, [])
        cells: list[object] = [
            advisor.id,
            advisor.name,
            advisor.email or "",
            advisor.institution,
            advisor.fields,
            advisor.language,
            days[-1].isoformat() if days else "",
            advisor.status,
            advisor.region,
            advisor.published,
            ";".join(d.isoformat() for d in days),
            "yes" if advisor.user_id else "no",
            advisor.next_step_on.isoformat() if advisor.next_step_on else "",
        ]
        if link_codes is not None:
            if advisor.user_id is None:
                code = await advisor_store.create_link_code(
                    session,
                    advisor.id,
                    purpose=ADVISOR_CODE,
                    now=link_codes.now,
                    valid_for=link_codes.valid_for,
                )
                until = (link_codes.now + link_codes.valid_for).date().isoformat()
                cells += [code, until]
            else:
                cells += ["", ""]
        writer.writerow(escape_cell(cell) for cell in cells)
    return out.getvalue()


def _unusable_address(email: str) -> str | None:
    """Why the bot cannot write to `email` (the same check as `/email`), or None."""
    try:
        checked_address(email)
    except UnsendableAddress:
        return f"{email!r}: umlauts before the @ cannot be written to (no SMTPUTF8)"
    except EmailNotValidError:
        return f"{email!r} is not an e-mail address"
    return None

"""What leaves a group: when a chair approves minutes, each recommendation or assignment
to a registered group, and each amendment of a decision that went to one, arrives in the
receiving group's inbox. Nothing else of the group is sent, and nothing before approval."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.core.dates import format_date
from bot.core.i18n import Translator
from bot.core.messages import Button, OutgoingMessage
from bot.core.numbers import decision_label
from handlers.context import HandlerContext
from handlers.minutes.render import kind_text
from handlers.organisation.addressees import matching_groups
from handlers.organisation.numbers import item_label
from storage import minutes as minutes_store
from storage import organisation as org_store
from storage import outbox, people
from storage.models import Decision, Group, InboxItem, Meeting


async def forward_approved(ctx: HandlerContext, meeting: Meeting) -> list[str]:
    """Called once the minutes of `meeting` are approved. Returns, for the approving chair,
    a line per decision that went to another group and per one that could not (its
    addressee fits several groups: now that the minutes are final it stays text)."""
    assert ctx.group is not None
    told: list[str] = []
    for decision in await minutes_store.decisions_of_meeting(ctx.session, ctx.group.id, meeting.id):
        label = decision_label(decision.year, decision.number)
        destinations, unclear = await _destinations(ctx, decision)
        if unclear:
            told.append(
                ctx._(
                    "{label} stays in this group: “{addressee}” fits several groups ({groups}).",
                    label=label,
                    addressee=decision.addressee or "",
                    groups=", ".join(unclear),
                )
            )
        for receiving_id, amends_id in destinations:
            item = await org_store.forward(
                ctx.session,
                decision_id=decision.id,
                sending_group_id=ctx.group.id,
                receiving_group_id=receiving_id,
                amends_item_id=amends_id,
                now=ctx.now,
            )
            if item is not None:
                receiving = await _post(ctx, item, decision, meeting)
                told.append(
                    ctx._(
                        "{label} went to the inbox of {group} ({item}).",
                        label=label,
                        group=receiving.name,
                        item=item_label(item.number),
                    )
                )
    return told


async def _destinations(
    ctx: HandlerContext, decision: Decision
) -> tuple[list[tuple[int, int | None]], list[str]]:
    """(receiving group, item amended) pairs: where the original of an amendment went, and
    the group a recommendation or assignment addresses (resolved when it was recorded, or now
    if that group registered since and the name is unambiguous); and the names of the groups
    an ambiguous addressee fits."""
    found: dict[int, int | None] = {}
    unclear: list[str] = []
    if decision.amends_decision_id is not None:
        for item in await org_store.items_of_decision(ctx.session, decision.amends_decision_id):
            found[item.receiving_group_id] = item.id
    group_id = await org_store.addressee_group(ctx.session, decision.id)
    if group_id is None:
        matches = await matching_groups(ctx.session, decision)
        group_id = matches[0].group_id if len(matches) == 1 else None
        if len(matches) > 1:
            unclear = [match.name for match in matches]
    if group_id is not None and group_id != decision.group_id:
        found.setdefault(group_id, None)
    return list(found.items()), unclear


def inbox_text(
    t: Translator,
    tz: ZoneInfo,
    item: InboxItem,
    decision: Decision,
    sender: str,
    meeting: Meeting | None,
    amended: InboxItem | None,
) -> str:
    """The item as the receiving group reads it: who sent it, the decision, its source."""
    label = decision_label(decision.year, decision.number)
    if amended is not None:
        head = t.gettext(
            "Inbox {item}: {sender} amended the decision of {amended}",
            item=item_label(item.number),
            sender=sender,
            amended=item_label(amended.number),
        )
    else:
        head = t.gettext(
            "Inbox {item} from {sender}: {kind}",
            item=item_label(item.number),
            sender=sender,
            kind=kind_text(t, decision.kind, decision.addressee),
        )
    source = t.gettext("Decision {label} of {sender}", label=label, sender=sender)
    if meeting is not None:
        source += ", " + t.gettext(
            "meeting #{number} “{title}” on {date}, minutes approved",
            number=meeting.number,
            title=meeting.title,
            date=format_date(meeting.starts_at.astimezone(tz).date(), t.language),
        )
    return f"{head}\n{decision.text}\n({source})"


def command_for(ctx: HandlerContext, name: str, language: str, prefix: str) -> str:
    """A command as written in another chat: its language and its platform's prefix."""
    command = ctx.services.router.get(name)
    return f"{prefix}{command.display_name(language) if command else name}"


def _message(
    ctx: HandlerContext, t: Translator, text: str, item: InboxItem, prefix: str
) -> OutgoingMessage:
    label = item_label(item.number)

    def command(name: str) -> str:
        return f"{command_for(ctx, name, t.language, prefix)} {label}"

    hint = t.gettext(
        "The chair decides: {take} (onto the next agenda), {task} (as an action item) or "
        "{decline} with a reason.",
        take=command("takeup"),
        task=command("intotask"),
        decline=command("decline") + " …",
    )
    buttons = (
        (
            Button(t.gettext("Onto the agenda"), command("takeup")),
            Button(t.gettext("As action item"), command("intotask")),
        ),
        # without the reason the command answers with what is missing and how to write it
        (Button(t.gettext("Decline (with a reason)"), command("decline")),),
    )
    return OutgoingMessage(f"{text}\n\n{hint}", buttons=buttons)


async def _post(
    ctx: HandlerContext, item: InboxItem, decision: Decision, meeting: Meeting
) -> Group:
    assert ctx.group is not None
    receiving: Group = await people.group_by_id(ctx.session, item.receiving_group_id)
    t = Translator(receiving.language)
    amended = await org_store.item_by_id(ctx.session, item.amends_item_id)
    text = inbox_text(
        t, ZoneInfo(receiving.timezone), item, decision, ctx.group.name, meeting, amended
    )
    ctx.enqueued += await outbox.enqueue_for_group(
        ctx.session,
        receiving.id,
        dedupe_key=f"inbox:{item.id}",
        purpose="inbox_item",
        message=lambda platform: _message(
            ctx, t, text, item, ctx.services.platform_traits(platform).command_prefix
        ),
        now=ctx.now,
    )
    return receiving

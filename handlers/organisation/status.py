"""Where a forwarded decision stands, told to the sending group: in /decisions, and to its
chairs when the receiving group's chair deals with it."""

from __future__ import annotations

from collections.abc import Container, Sequence

from bot.core.enums import InboxStatus
from bot.core.i18n import Translator
from bot.core.messages import OutgoingMessage
from bot.core.numbers import decision_label
from handlers.context import HandlerContext
from handlers.members.audience import audience
from storage import organisation as org_store
from storage import outbox, people
from storage.models import Decision, InboxItem


def status_text(t: Translator, item: InboxItem) -> str:
    if item.status == InboxStatus.ON_AGENDA.value:
        return t.gettext("on the agenda")
    if item.status == InboxStatus.ACTION.value:
        return t.gettext("an action item")
    if item.status == InboxStatus.DECLINED.value:
        return t.gettext("declined: {reason}", reason=item.reason or "–")
    return t.gettext("open")


async def forwarding_status(
    ctx: HandlerContext,
    decisions: Sequence[Decision],
    *,
    receivers: Container[int] | None = None,
) -> dict[int, str]:
    """ " → AG QS: open" per decision that went to other groups, for the sender's lists;
    with `receivers`, only how those groups dealt with it (the others keep it to themselves)."""
    items = await org_store.items_of_decisions(ctx.session, [d.id for d in decisions])
    if receivers is not None:
        items = {
            decision_id: kept
            for decision_id, found in items.items()
            if (kept := [i for i in found if i.receiving_group_id in receivers])
        }
    names = await org_store.group_names(
        ctx.session, {i.receiving_group_id for found in items.values() for i in found}
    )
    return {
        decision_id: "".join(
            f" → {names.get(i.receiving_group_id, '?')}: {status_text(ctx.t, i)}" for i in found
        )
        for decision_id, found in items.items()
    }


async def tell_sender(ctx: HandlerContext, item: InboxItem, decision: Decision) -> None:
    """The sending group's chairs hear in their private chat how the receiver dealt with it."""
    assert ctx.group is not None
    sending = await people.group_by_id(ctx.session, item.sending_group_id)
    for chair in await people.chairs_of(ctx.session, sending.id):
        t = audience(chair, sending).t
        text = t.gettext(
            "{group} dealt with your decision {label}: {status}",
            group=ctx.group.name,
            label=decision_label(decision.year, decision.number),
            status=status_text(t, item),
        )
        ctx.enqueued += await outbox.enqueue_to_person(
            ctx.session,
            user_id=chair.id,
            dedupe_key=f"inbox-status:{item.id}:{item.status}:{chair.id}",
            purpose="inbox_status",
            message=OutgoingMessage(text),
            now=ctx.now,
            group_id=sending.id,
        )

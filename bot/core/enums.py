"""The vocabulary the domain logic and the database share: roles, kinds and statuses.

They live in core, not beside the ORM tables, so pure domain modules (tallies, policies,
renderers) can use them without importing storage; storage stores their values as strings.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """Ordered by power: a chair may do everything a minute-taker may, and so on."""

    MEMBER = "member"
    MINUTE_TAKER = "minute_taker"
    CHAIR = "chair"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]

    def allows(self, required: Role) -> bool:
        return self.rank >= required.rank


_ROLE_RANK = {Role.MEMBER: 0, Role.MINUTE_TAKER: 1, Role.CHAIR: 2}


class GroupKind(StrEnum):
    AG = "ag"
    FACHGRUPPE = "fachgruppe"
    NETZWERK = "netzwerk"
    ADHOC = "adhoc"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    WAITING_FOR_DM = "waiting_for_dm"
    SENT = "sent"
    UNREACHABLE = "unreachable"
    FAILED = "failed"
    # The process died after the request may have reached the platform: not sent again
    # (that could be a duplicate), shown to admins by `bot outbox` instead.
    UNCERTAIN = "uncertain"
    # About a group the person has left: recorded, never sent.
    DROPPED = "dropped"
    # Outlived its useful life while waiting (e.g. the platform was down): never sent.
    EXPIRED = "expired"


class MeetingStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class MinutesStatus(StrEnum):
    NONE = "none"
    DRAFT = "draft"  # published for objections
    APPROVED = "approved"  # decisions frozen


class AgendaItemKind(StrEnum):
    TOPIC = "topic"
    BREAK = "break"
    MISC = "misc"  # "Verschiedenes / nächste Termine", customarily last


class AgendaItemStatus(StrEnum):
    ACCEPTED = "accepted"
    PROPOSED = "proposed"  # by a member, waiting for a chair
    REJECTED = "rejected"


class DecisionKind(StrEnum):
    DECISION = "decision"
    RECOMMENDATION = "recommendation"  # "empfiehlt dem Strategiekreis"
    ASSIGNMENT = "assignment"  # "Auftrag an AG Qualitätssicherung"
    INFORMATION = "information"


class DecisionOutcome(StrEnum):
    UNANIMOUS = "unanimous"
    COUNTED = "counted"  # votes_for / votes_against / abstentions
    NO_VOTE = "no_vote"  # typed: "ohne Abstimmung"
    NOT_GIVEN = "not_given"  # nothing typed: the minutes write just "Beschluss: …"


class ActionItemStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    DROPPED = "dropped"


class ListingStatus(StrEnum):
    LISTED = "listed"
    DELISTED = "delisted"


class AuthorizationSource(StrEnum):
    INITIAL = "initial"
    EXCHANGE = "exchange"
    IMPORT = "import"
    MANUAL = "manual"


class StepOutcome(StrEnum):
    SENT = "sent"  # the letter is in the outbox (or the listing change was made and told)
    MISSED = "missed"  # superseded by a later step or a renewal: not sent, reported
    UNREACHABLE = "unreachable"  # no chat identity reaches the advisor: reported to admins
    MANUAL = "manual"  # an admin delisted the advisor by hand


class FeedKind(StrEnum):
    GROUP = "group"
    PERSON = "person"


class PollKind(StrEnum):
    DATE = "date"  # Terminabfrage: options are time slots, answers yes / if need be / no
    SINGLE = "single"  # survey, one choice per person
    MULTIPLE = "multiple"  # survey, any number of choices


class PollStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class PollAnswer(StrEnum):
    YES = "yes"
    MAYBE = "maybe"  # "if need be" (notfalls)
    NO = "no"


class ReminderStatus(StrEnum):
    SENT = "sent"  # queued in the outbox in the same transaction
    MISSED = "missed"  # fell due while the bot was down and is no longer meaningful


class InboxStatus(StrEnum):
    """Where a decision that reached another group stands (its inbox item)."""

    OPEN = "open"
    ON_AGENDA = "on_agenda"  # a TOP of the receiving group's next meeting
    ACTION = "action"  # an action item of the receiving group
    DECLINED = "declined"  # with a reason

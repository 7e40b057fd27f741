"""SQLAlchemy models, one module per domain; every model is re-exported here, so code
keeps importing `from storage.models import X`. Importing this package imports every
module, which registers every table on `Base.metadata` (alembic and the tests rely on
that) and lets `relationship("Name")` resolve across modules.

Every timestamp is stored as UTC and read back as an aware datetime (base.UTCDateTime).
"""

from storage.models.advisors import Advisor as Advisor
from storage.models.advisors import AdvisorAuthorization as AdvisorAuthorization
from storage.models.advisors import AdvisorInstitution as AdvisorInstitution
from storage.models.advisors import AdvisorLinkCode as AdvisorLinkCode
from storage.models.advisors import AdvisorStep as AdvisorStep
from storage.models.advisors import ExchangeAttendance as ExchangeAttendance
from storage.models.advisors import ExperienceExchange as ExperienceExchange
from storage.models.base import NAMING as NAMING
from storage.models.base import Base as Base
from storage.models.base import UTCDateTime as UTCDateTime
from storage.models.calendar import CalendarFeed as CalendarFeed
from storage.models.calendar import CalendarRevision as CalendarRevision
from storage.models.delivery import OutboxMessage as OutboxMessage
from storage.models.delivery import PlatformState as PlatformState
from storage.models.delivery import ProcessedEvent as ProcessedEvent
from storage.models.digest import DigestDestination as DigestDestination
from storage.models.digest import DigestRun as DigestRun
from storage.models.digest import DigestShare as DigestShare
from storage.models.digest import OrganisationSettings as OrganisationSettings
from storage.models.email import EmailAddress as EmailAddress
from storage.models.mail import ChannelPreference as ChannelPreference
from storage.models.mail import EmailCode as EmailCode
from storage.models.meetings import AgendaItem as AgendaItem
from storage.models.meetings import Attendance as Attendance
from storage.models.meetings import Meeting as Meeting
from storage.models.meetings import MeetingNote as MeetingNote
from storage.models.meetings import MeetingSeries as MeetingSeries
from storage.models.meetings import Rsvp as Rsvp
from storage.models.minutes import ActionItem as ActionItem
from storage.models.minutes import ActionItemAssignee as ActionItemAssignee
from storage.models.minutes import Decision as Decision
from storage.models.minutes import MinutesObjection as MinutesObjection
from storage.models.organisation import DecisionAddressee as DecisionAddressee
from storage.models.organisation import GroupAlias as GroupAlias
from storage.models.organisation import InboxItem as InboxItem
from storage.models.organisation import ReportDuty as ReportDuty
from storage.models.people import ChatDeparture as ChatDeparture
from storage.models.people import Group as Group
from storage.models.people import GroupChat as GroupChat
from storage.models.people import Identity as Identity
from storage.models.people import LinkCode as LinkCode
from storage.models.people import LinkRequest as LinkRequest
from storage.models.people import Membership as Membership
from storage.models.people import User as User
from storage.models.personal_links import Guest as Guest
from storage.models.personal_links import PersonalLink as PersonalLink
from storage.models.polls import Poll as Poll
from storage.models.polls import PollMessage as PollMessage
from storage.models.polls import PollOption as PollOption
from storage.models.polls import PollVote as PollVote
from storage.models.processes import HandledUpdate as HandledUpdate
from storage.models.processes import ProcessLease as ProcessLease
from storage.models.reminders import GroupReminderSettings as GroupReminderSettings
from storage.models.reminders import ReminderLog as ReminderLog
from storage.models.reminders import UserReminderSettings as UserReminderSettings

"""Every model, imported once so that the metadata (and Alembic) sees the whole schema."""

from storage.announcement.models import Announcement, AnnouncementDelivery
from storage.attachment.models import Attachment, AttachmentKind
from storage.audit.models import AuditEvent
from storage.base import Base
from storage.callback.models import Callback, CallbackChannel, Satisfaction
from storage.chat.models import (
    ChatWindow,
    Conversation,
    DepartmentChat,
    SeenMessage,
)
from storage.duty.models import DutyShift
from storage.estate.models import Building, Estate, Unit, UnitState
from storage.identity.models import (
    BindingRequest,
    BindingStatus,
    ChatIdentity,
    FailedBinding,
    InviteCode,
)
from storage.outbox.models import OutboxMessage, OutboxStatus
from storage.patrol.models import (
    ExtensionRequest,
    ExtensionStatus,
    FindingStatus,
    PatrolCategory,
    PatrolFinding,
    PatrolRound,
    RoundCheck,
    RoundKind,
    RoundStatus,
    RoundVisit,
)
from storage.people.models import (
    Department,
    DepartmentKind,
    Person,
    Residency,
    ResidentRelation,
    StaffMember,
    StaffRole,
)
from storage.shared.models import SharedValue
from storage.survey.models import Survey, SurveyInvitation
from storage.ticket.models import (
    CallbackClass,
    ComplaintSeverity,
    RepairCategory,
    ReportChannel,
    Ticket,
    TicketKind,
    TicketStatus,
)

__all__ = [
    "Announcement",
    "AnnouncementDelivery",
    "Attachment",
    "AttachmentKind",
    "AuditEvent",
    "Base",
    "BindingRequest",
    "BindingStatus",
    "Building",
    "Callback",
    "CallbackChannel",
    "CallbackClass",
    "ChatIdentity",
    "ChatWindow",
    "ComplaintSeverity",
    "Conversation",
    "Department",
    "DepartmentChat",
    "DepartmentKind",
    "DutyShift",
    "Estate",
    "ExtensionRequest",
    "ExtensionStatus",
    "FailedBinding",
    "FindingStatus",
    "InviteCode",
    "OutboxMessage",
    "OutboxStatus",
    "PatrolCategory",
    "PatrolFinding",
    "PatrolRound",
    "Person",
    "RepairCategory",
    "ReportChannel",
    "Residency",
    "ResidentRelation",
    "RoundCheck",
    "RoundKind",
    "RoundStatus",
    "RoundVisit",
    "Satisfaction",
    "SeenMessage",
    "SharedValue",
    "StaffMember",
    "StaffRole",
    "Survey",
    "SurveyInvitation",
    "Ticket",
    "TicketKind",
    "TicketStatus",
    "Unit",
    "UnitState",
]

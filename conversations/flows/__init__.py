"""Every flow, in the order the menu shows them; one module per domain object, as in
``storage/``."""

from conversations.flows.announcements import ANNOUNCE, APPROVE_NOTICE, NOTICES, RECEIVED
from conversations.flows.binding import BIND, BINDINGS
from conversations.flows.callbacks import CALLBACK, CALLBACKS, QUALITY
from conversations.flows.complaints import COMPLAINT, COMPLAINTS, REGISTER_COMPLAINT
from conversations.flows.duty import ON_DUTY
from conversations.flows.groups import LINK
from conversations.flows.language import LANGUAGE
from conversations.flows.messages import MESSAGES
from conversations.flows.patrols import APPROVALS, EXTENSION, PATROL, RECTIFY, VERIFY
from conversations.flows.readouts import DIGEST, OVERDUE, TODAY
from conversations.flows.repairs import ASSIGN, ORDERS, REGISTER, REPAIR, TAKE
from conversations.flows.residents import RESIDENTS
from conversations.flows.rounds import ROUND
from conversations.flows.surveys import SURVEY
from conversations.flows.tickets import MINE, WORDS_FLOW
from conversations.steps import Flow

FLOWS: tuple[Flow, ...] = (
    BIND,
    REPAIR,
    COMPLAINT,
    MINE,
    CALLBACK,
    SURVEY,
    RECEIVED,
    PATROL,
    RECTIFY,
    ROUND,
    ORDERS,
    CALLBACKS,
    QUALITY,
    VERIFY,
    COMPLAINTS,
    MESSAGES,
    REGISTER,
    REGISTER_COMPLAINT,
    ASSIGN,
    ANNOUNCE,
    APPROVE_NOTICE,
    NOTICES,
    RESIDENTS,
    EXTENSION,
    APPROVALS,
    TODAY,
    OVERDUE,
    DIGEST,
    ON_DUTY,
    BINDINGS,
    LINK,
    LANGUAGE,
    TAKE,
    WORDS_FLOW,
)

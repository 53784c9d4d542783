"""Every flow, in the order the menu shows them."""

from conversations.flows.binding import BIND, LANGUAGE
from conversations.flows.manager import APPROVALS, LINK, OVERDUE, TODAY
from conversations.flows.owner import CALLBACK, COMPLAINT, MINE, REPAIR
from conversations.flows.staff import (
    ASSIGN,
    BINDINGS,
    CALLBACKS,
    COMPLAINTS,
    EXTENSION,
    ORDERS,
    PATROL,
    VERIFY,
)
from conversations.steps import Flow

FLOWS: tuple[Flow, ...] = (
    BIND,
    REPAIR,
    COMPLAINT,
    MINE,
    CALLBACK,
    PATROL,
    ORDERS,
    CALLBACKS,
    VERIFY,
    COMPLAINTS,
    ASSIGN,
    EXTENSION,
    APPROVALS,
    TODAY,
    OVERDUE,
    BINDINGS,
    LINK,
    LANGUAGE,
)

"""Conversation state by (platform, chat, user), and the record of messages already handled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from storage.chat.models import (
    ChatWindow,
    Conversation,
    DepartmentChat,
    SeenMessage,
)
from storage.clock import utcnow
from storage.driver import DriverStatement
from storage.i18n import N_
from storage.people import service as people
from storage.people.models import MANAGER_ROLES, DepartmentKind, Person

_RECORD_SEEN = DriverStatement(
    "INSERT INTO seen_message (platform, chat_id, message_id, seen_at)"
    " VALUES (:platform, :chat_id, :message_id, :seen_at)"
    " ON CONFLICT (platform, chat_id, message_id) DO NOTHING RETURNING id",
    binds={"seen_at": SeenMessage.__table__.c.seen_at.type},
)


def first_sighting(*, session: Session, platform: str, chat_id: str, message_id: str) -> bool:
    """True once per message, whichever worker asks: the unique row decides a race.

    One INSERT .. ON CONFLICT DO NOTHING on the driver's cursor: it runs for every message.
    (On PostgreSQL, a worker inserting the same message waits for the first to finish.)
    """
    inserted = _RECORD_SEEN.rows(
        session=session,
        values={
            "platform": platform,
            "chat_id": chat_id,
            "message_id": message_id,
            "seen_at": utcnow(),
        },
    )
    return bool(inserted)


@dataclass(frozen=True)
class Standing:
    """Where a conversation stood when a message came (read, not an ORM object: ``save``
    writes where it stands after). ``data`` is fresh from the database, the caller's to
    change."""

    id: int
    flow: str | None
    step: str | None
    data: dict[str, Any]
    updated_at: datetime


@dataclass(frozen=True)
class Arrival:
    """What every message needs first: its conversation, locked, and who is writing."""

    conversation: Standing
    person: Person | None  # None: a chat account not bound to anyone yet
    resident: bool  # the person lives in a unit here (owner, tenant or family)


_CONVERSATION = cast(Table, Conversation.__table__)
_PERSON = cast(Table, Person.__table__)
# Run for every message, so one statement (the conversation, the account's person and "has a
# home" were three), on the driver's cursor: through the ORM, finding the statement, loading
# the row and building the person cost a tenth of the server's CPU an Update (bench/README.md).
# The conversation comes as columns (``save`` writes it back); the person is built from theirs.
_PERSON_COLUMNS = ", ".join(f"person.{column.name}" for column in _PERSON.columns)
_ARRIVAL = DriverStatement(
    "SELECT conversation.id, conversation.flow, conversation.step, conversation.data,"  # noqa: S608  (its own table's columns)
    f" conversation.updated_at, {_PERSON_COLUMNS}"
    ", EXISTS (SELECT 1 FROM residency WHERE residency.person_id = chat_identity.person_id)"
    " FROM conversation"
    " LEFT OUTER JOIN chat_identity ON chat_identity.platform = conversation.platform"
    " AND chat_identity.external_id = conversation.user_id"
    " LEFT OUTER JOIN person ON person.id = chat_identity.person_id"
    " WHERE conversation.platform = :platform AND conversation.chat_id = :chat_id"
    " AND conversation.user_id = :user_id",
    results=(
        None,
        None,
        None,
        _CONVERSATION.c.data.type,
        _CONVERSATION.c.updated_at.type,
        *(column.type for column in _PERSON.columns),
        None,
    ),
    lock_rows_of="conversation",  # one message at a time per conversation
)
_PERSON_FIELDS = tuple(column.key for column in _PERSON.columns)
# A second worker's INSERT of the same first message waits for the first's to commit (on
# PostgreSQL), then does nothing: both then read the one conversation, locked.
_OPEN = DriverStatement(
    "INSERT INTO conversation (platform, chat_id, user_id, data, updated_at)"
    " VALUES (:platform, :chat_id, :user_id, :data, :updated_at)"
    " ON CONFLICT (platform, chat_id, user_id) DO NOTHING",
    binds={"data": _CONVERSATION.c.data.type, "updated_at": _CONVERSATION.c.updated_at.type},
)
_SAVE = DriverStatement(
    "UPDATE conversation SET flow = :flow, step = :step, data = :data, updated_at = :updated_at"
    " WHERE id = :id",
    binds={"data": _CONVERSATION.c.data.type, "updated_at": _CONVERSATION.c.updated_at.type},
)


def arrive(*, session: Session, platform: str, chat_id: str, user_id: str) -> Arrival:
    """The conversation row, locked for this transaction (one message at a time per key),
    with who is writing; a first message opens the conversation."""
    key = {"platform": platform, "chat_id": chat_id, "user_id": user_id}
    rows = _ARRIVAL.rows(session=session, values=key)
    if not rows:
        _OPEN.run(session=session, values=key | {"data": {}, "updated_at": utcnow()})
        rows = _ARRIVAL.rows(session=session, values=key)
    conversation_id, flow, step, data, updated_at, *fields, resident = rows[0]
    standing = Standing(conversation_id, flow, step, data, updated_at)
    return Arrival(standing, _person(session, fields), bool(resident))


def _person(session: Session, fields: Sequence[Any]) -> Person | None:
    """The person of the row's columns, in the session as if the ORM had loaded them: the
    one it holds already, if it does."""
    values = dict(zip(_PERSON_FIELDS, fields, strict=True))
    if values["id"] is None:
        return None
    held = session.identity_map.get(identity_key(Person, values["id"]))
    if isinstance(held, Person):
        return held
    person = Person(**values)
    make_transient_to_detached(person)  # no history: nothing to write back
    session.add(person)
    return person


def save(
    *,
    session: Session,
    conversation_id: int,
    flow: str | None,
    step: str | None,
    data: dict[str, Any],
) -> None:
    """Where the conversation stands after a message, and since when."""
    _SAVE.run(
        session=session,
        values={
            "id": conversation_id,
            "flow": flow,
            "step": step,
            "data": data,
            "updated_at": utcnow(),
        },
    )


def link_department_chat(
    *, session: Session, actor: Person, estate_id: int, platform: str, chat_id: str
) -> DepartmentChat:
    """A department head makes the group they are in their department's notice group."""
    post = people.require_staff(
        session=session,
        actor=actor,
        estate_id=estate_id,
        roles=MANAGER_ROLES,
        doing=N_("设置部门通知群"),
    )
    link = session.scalar(
        select(DepartmentChat).where(
            DepartmentChat.platform == platform, DepartmentChat.chat_id == chat_id
        )
    )
    if link is None:
        link = DepartmentChat(platform=platform, chat_id=chat_id)
        session.add(link)
    link.department_id, link.linked_by_id, link.linked_at = post.department_id, actor.id, utcnow()
    session.flush()
    return link


# Built once: asked whenever a department is told of something.
_DEPARTMENT_CHATS = (
    select(DepartmentChat)
    .where(DepartmentChat.department_id == bindparam("department_id"))
    .order_by(DepartmentChat.id)
)


def department_chats(*, session: Session, department_id: int) -> list[DepartmentChat]:
    return list(session.scalars(_DEPARTMENT_CHATS, {"department_id": department_id}))


_CHATS_OF_KIND = (
    select(DepartmentChat)
    .where(DepartmentChat.department_id == people.DEPARTMENT_OF_KIND_ID.scalar_subquery())
    .order_by(DepartmentChat.id)
)


def chats_of_kind(
    *, session: Session, estate_id: int, kind: DepartmentKind
) -> list[DepartmentChat]:
    """The notice groups of the estate's department of this kind (none: no such department,
    or none linked), in one query: asked for every repair and complaint the desk is told of."""
    return list(session.scalars(_CHATS_OF_KIND, {"estate_id": estate_id, "kind": kind}))


def note_inbound(*, session: Session, platform: str, chat_id: str) -> None:
    """The person just wrote: a new 48-hour window, and its message count starts over."""
    window = _window(session, platform, chat_id)
    window.last_inbound_at, window.sent_since_inbound, window.unsubscribed_at = utcnow(), 0, None


def note_unsubscribed(*, session: Session, platform: str, chat_id: str) -> None:
    _window(session, platform, chat_id).unsubscribed_at = utcnow()


def note_sent(*, session: Session, platform: str, chat_id: str) -> None:
    _window(session, platform, chat_id).sent_since_inbound += 1


def window(*, session: Session, platform: str, chat_id: str) -> ChatWindow | None:
    return session.scalar(
        select(ChatWindow).where(ChatWindow.platform == platform, ChatWindow.chat_id == chat_id)
    )


def _window(session: Session, platform: str, chat_id: str) -> ChatWindow:
    found = window(session=session, platform=platform, chat_id=chat_id)
    if found is None:
        found = ChatWindow(
            platform=platform, chat_id=chat_id, last_inbound_at=utcnow(), sent_since_inbound=0
        )
        session.add(found)
    return found


def conversation_of(*, session: Session, platform: str, chat_id: str) -> Conversation | None:
    """A private chat's conversation (its chat is its person's), locked to be changed."""
    return session.scalar(
        select(Conversation)
        .where(
            Conversation.platform == platform,
            Conversation.chat_id == chat_id,
            Conversation.user_id == chat_id,
        )
        .with_for_update()
    )

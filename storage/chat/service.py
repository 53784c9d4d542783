"""Conversation state by (platform, chat, user), and the record of messages already handled."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.chat.models import Conversation, DepartmentChat, SeenMessage
from storage.clock import utcnow
from storage.i18n import N_
from storage.people import service as people
from storage.people.models import MANAGER_ROLES, Person


def first_sighting(*, session: Session, platform: str, chat_id: str, message_id: str) -> bool:
    """True once per message, whichever worker asks: the unique row decides a race."""
    try:
        with session.begin_nested():
            session.add(SeenMessage(platform=platform, chat_id=chat_id, message_id=message_id))
    except IntegrityError:
        return False
    return True


def conversation(*, session: Session, platform: str, chat_id: str, user_id: str) -> Conversation:
    """The conversation row, locked for this transaction: one message at a time per key."""
    key = (
        Conversation.platform == platform,
        Conversation.chat_id == chat_id,
        Conversation.user_id == user_id,
    )
    found = session.scalar(select(Conversation).where(*key).with_for_update())
    if found is not None:
        return found
    try:
        with session.begin_nested():
            found = Conversation(
                platform=platform, chat_id=chat_id, user_id=user_id, data={}, updated_at=utcnow()
            )
            session.add(found)
    except IntegrityError:  # another worker created it first: take theirs, locked
        found = session.scalars(select(Conversation).where(*key).with_for_update()).one()
    return found


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


def department_chats(*, session: Session, department_id: int) -> list[DepartmentChat]:
    query = select(DepartmentChat).where(DepartmentChat.department_id == department_id)
    return list(session.scalars(query.order_by(DepartmentChat.id)))

"""Enqueueing notifications. Sending them is the dispatcher's job, in ``bot/``."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, cast

from sqlalchemy import Table, bindparam, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.chat import service as chat
from storage.clock import utcnow
from storage.database import Database
from storage.driver import DriverStatement
from storage.i18n import DEFAULT_LOCALE
from storage.outbox.models import OutboxMessage, OutboxStatus
from storage.outbox.notice import Notice
from storage.people import service as people
from storage.people.models import Department, Person

QUEUED = "wuye.outbox.queued"  # in Session.info: this unit of work queued a notice

_OUTBOX = cast(Table, OutboxMessage.__table__)
# A text statement, the same on both databases: the dialects' INSERT .. ON CONFLICT opts out
# of SQLAlchemy's statement cache (see chat.first_sighting).
_QUEUE_ONCE = text(
    "INSERT INTO outbox_message (recipient_id, kind, params, text, buttons, idempotency_key,"
    " status, attempts, created_at, next_attempt_at)"
    " VALUES (:recipient_id, :kind, :params, :text, :buttons, :idempotency_key,"
    " :status, 0, :created_at, :created_at)"
    " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
).bindparams(
    *(
        bindparam(name, type_=_OUTBOX.c[name].type)
        for name in ("params", "buttons", "status", "created_at")
    )
)

# A notice to thousands: the rows as arrays, unnested by the server. Each language's text and
# buttons go once (``wordings``, indexed by ``wording``) and the keys are made there: ten
# thousand copies of one text cost psycopg a third of a second to write out.
_QUEUE_ALL_POSTGRESQL = text(
    "INSERT INTO outbox_message (recipient_id, kind, params, text, buttons, idempotency_key,"
    " status, attempts, created_at, next_attempt_at)"
    " SELECT r.recipient_id, :kind, :params, (CAST(:texts AS TEXT[]))[r.wording],"
    " CAST((CAST(:buttons AS TEXT[]))[r.wording] AS JSON), :key || ':' || r.recipient_id,"
    " :status, 0, :created_at, :created_at"
    " FROM unnest(CAST(:recipient_ids AS INTEGER[]), CAST(:wordings AS INTEGER[]))"
    " AS r(recipient_id, wording)"
    " RETURNING id, recipient_id"
).bindparams(
    *(bindparam(name, type_=_OUTBOX.c[name].type) for name in ("params", "status", "created_at"))
)


class Addressee(Protocol):
    """Whom a notice is worded for: a person, or a row of one's id and language."""

    @property
    def id(self) -> int: ...

    @property
    def locale(self) -> str: ...


def notify(
    *,
    session: Session,
    recipient: Person,
    notice: Notice,
    idempotency_key: str | None = None,
) -> OutboxMessage | None:
    """Queue a notice in the recipient's language, in the caller's transaction,
    so that it exists exactly when the change does.

    With an idempotency key a second call is a no-op and returns None, even when
    two processes race: the unique key decides, inside a savepoint.
    """
    return notify_text(
        session=session,
        recipient=recipient,
        kind=notice.kind,
        text=notice.text(recipient.locale),
        params=notice.params,
        idempotency_key=idempotency_key,
        buttons=notice.buttons(recipient.locale),
        images=notice.images,
    )


def notify_each(
    *, session: Session, recipients: Iterable[Person], notice: Notice, key: str | None = None
) -> int:
    """The notice to each recipient; with ``key``, keyed ``{key}:{recipient}`` so that each
    gets it once however often it is asked (the clock asks every minute). Returns how many
    were queued now.

    One statement a recipient: a key already taken, by an earlier call or by another worker
    at this moment, is skipped by the database (``ON CONFLICT DO NOTHING``, which on
    PostgreSQL waits for the other to commit), where a look-up and a savepoint around each
    insert took four round trips.
    """
    now, worded = utcnow(), _worded(notice)
    queued = 0
    for person in recipients:
        wording, buttons = worded(person.locale)
        inserted = session.scalar(
            _QUEUE_ONCE,
            {
                "recipient_id": person.id,
                "kind": notice.kind,
                "params": _record(notice.params, notice.images),
                "text": wording,
                "buttons": buttons,
                "idempotency_key": f"{key}:{person.id}" if key is not None else None,
                "status": OutboxStatus.PENDING,
                "created_at": now,
            },
        )
        queued += inserted is not None
    if queued:
        session.info[QUEUED] = True
    return queued


def notify_all(
    *, session: Session, recipients: Sequence[Addressee], notice: Notice, key: str
) -> dict[int, int]:
    """The notice to every recipient in one statement (a notice to a whole estate is
    thousands of rows), each in their language and keyed ``{key}:{recipient}``. For a
    caller that sends it once under a lock (a notice to residents): a key already taken
    fails the statement rather than being skipped. Returns recipient id → outbox row id."""
    if not recipients:
        return {}
    now, worded = utcnow(), _worded(notice)
    if session.get_bind().dialect.name == "postgresql":
        languages: dict[str, int] = {}  # a language → its place in the arrays, from 1
        for recipient in recipients:
            languages.setdefault(recipient.locale, len(languages) + 1)
        wordings = [worded(locale) for locale in languages]
        inserted = session.execute(
            _QUEUE_ALL_POSTGRESQL,
            {
                "kind": notice.kind,
                "params": _record(notice.params, notice.images),
                "status": OutboxStatus.PENDING,
                "created_at": now,
                "key": key,
                "texts": [wording for wording, _ in wordings],
                "buttons": [json.dumps(buttons) if buttons else None for _, buttons in wordings],
                "recipient_ids": [recipient.id for recipient in recipients],
                "wordings": [languages[recipient.locale] for recipient in recipients],
            },
        ).all()
    else:
        rows = []
        for recipient in recipients:
            wording, buttons = worded(recipient.locale)
            rows.append(
                {
                    "recipient_id": recipient.id,
                    "kind": notice.kind,
                    "params": _record(notice.params, notice.images),
                    "text": wording,
                    "buttons": buttons,
                    "idempotency_key": f"{key}:{recipient.id}",
                    "status": OutboxStatus.PENDING,
                    "attempts": 0,
                    "created_at": now,
                    "next_attempt_at": now,
                }
            )
        inserted = session.execute(
            insert(_OUTBOX).returning(_OUTBOX.c.id, _OUTBOX.c.recipient_id), rows
        ).all()
    session.info[QUEUED] = True
    return {recipient: message for message, recipient in inserted}


def _worded(notice: Notice) -> Callable[[str], tuple[str, list[list[str]] | None]]:
    """The notice's text and buttons in a language, each language written once."""
    rendered: dict[str, tuple[str, list[list[str]] | None]] = {}

    def of(locale: str) -> tuple[str, list[list[str]] | None]:
        if locale not in rendered:
            buttons = [[k, label] for k, label in notice.buttons(locale)] or None
            rendered[locale] = (notice.text(locale), buttons)
        return rendered[locale]

    return of


def notify_text(
    *,
    session: Session,
    recipient: Person,
    kind: str,
    text: str,
    params: Mapping[str, object] | None = None,
    idempotency_key: str | None = None,
    buttons: Sequence[tuple[str, str]] = (),
    images: Sequence[str] = (),
) -> OutboxMessage | None:
    """Queue a text already written for this recipient (a digest, a report), with the
    buttons it offers (key, label in the recipient's language) and its pictures."""
    now = utcnow()
    message = OutboxMessage(
        recipient=recipient,
        kind=kind,
        params=_record(params, images),
        text=text,
        buttons=[[key, label] for key, label in buttons] or None,
        idempotency_key=idempotency_key,
        status=OutboxStatus.PENDING,
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )
    return _queue(session, message)


def _record(params: Mapping[str, object] | None, images: Sequence[str]) -> dict[str, object]:
    """The facts kept with a notice, in the desk's words (the text is in the recipient's
    language), and its pictures, which the sender sends with it."""
    record: dict[str, object] = {key: str(value) for key, value in (params or {}).items()}
    if images:
        record["images"] = list(images)
    return record


def _queue(session: Session, message: OutboxMessage) -> OutboxMessage | None:
    key = message.idempotency_key
    if key is None:
        session.add(message)
    elif session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)):
        return None
    else:
        try:
            with session.begin_nested():
                session.add(message)
        except IntegrityError:
            return None
    session.info[QUEUED] = True
    return message


def when_queued(*, db: Database, callback: Callable[[], None]) -> Callable[[], None]:
    """Call ``callback`` once a unit of work that queued notices has committed (in the
    thread that committed it), so the dispatcher wakes for them and for nothing else.
    Returns the function that stops it."""

    def committed(session: Session) -> None:
        if session.info.pop(QUEUED, False):
            callback()

    return db.after_commit(committed)


def already_queued(*, session: Session, idempotency_key: str) -> bool:
    found = select(OutboxMessage.id).where(OutboxMessage.idempotency_key == idempotency_key)
    return session.scalar(found) is not None


def to_chat(
    *,
    session: Session,
    platform: str,
    chat_id: str,
    text: str,
    kind: str = "reply",
    idempotency_key: str | None = None,
) -> OutboxMessage | None:
    """A text for a chat rather than a person: a group's digest, or a reply that could
    not go out at once."""
    now = utcnow()
    message = OutboxMessage(
        platform=platform,
        chat_id=chat_id,
        kind=kind,
        params={},
        text=text,
        idempotency_key=idempotency_key,
        status=OutboxStatus.PENDING,
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )
    return _queue(session, message)


def notice_to_chat(
    *,
    session: Session,
    platform: str,
    chat_id: str,
    notice: Notice,
    idempotency_key: str | None = None,
) -> OutboxMessage | None:
    """A notice for a group chat (a department's), in the estate's language, with its
    buttons and pictures."""
    message = to_chat(
        session=session,
        platform=platform,
        chat_id=chat_id,
        text=notice.text(DEFAULT_LOCALE),
        kind=notice.kind,
        idempotency_key=idempotency_key,
    )
    if message is not None:
        message.params = _record(notice.params, notice.images)
        message.buttons = [[key, label] for key, label in notice.buttons(DEFAULT_LOCALE)] or None
    return message


REPLY = "reply"
MOST_REPLIES = 32  # to one message; a redelivery looks for this many


def reply_key(answering: str, number: int) -> str:
    """The idempotency key of a message's ``number``th reply: unique, and found again."""
    key = f"reply:{answering}:{number}"
    if len(key) > 200:  # a platform's long chat ids: the key's column holds 200
        key = f"reply:{hashlib.sha256(answering.encode()).hexdigest()}:{number}"
    return key


def keep_replies(
    *,
    session: Session,
    platform: str,
    chat_id: str,
    answering: str,
    replies: Sequence[tuple[str, Sequence[tuple[str, str]], Sequence[str]]],
    lease: timedelta,
) -> list[str]:
    """The replies to one message (text, buttons as (key, label), images), written with the
    step they answer and leased to the channel that is about to send them.

    The channel sends them right after the commit and confirms them (``delivered_all``).
    If it dies first, they are still here: the redelivered message (``take_unsent``) or,
    once the lease has run out, the dispatcher sends them, once.
    """
    now = utcnow()
    rows = [
        {
            "platform": platform,
            "chat_id": chat_id,
            "kind": REPLY,
            "params": {"images": list(images)} if images else {},
            "text": text,
            "buttons": [[key, label] for key, label in buttons] or None,
            "in_reply_to": answering,
            "idempotency_key": reply_key(answering, number),
            "status": OutboxStatus.PENDING,
            "attempts": 1,
            "created_at": now,
            "next_attempt_at": now + lease,
        }
        for number, (text, buttons, images) in enumerate(replies)
    ]
    # Not QUEUED: the dispatcher need not wake for replies on their way. On the driver's
    # cursor, as it runs for every message: no unit of work, and nothing returned (they are
    # known by their keys).
    _KEEP_REPLY.run_each(session=session, values=rows)
    return [str(row["idempotency_key"]) for row in rows]


_KEEP_REPLY = DriverStatement(
    "INSERT INTO outbox_message (platform, chat_id, kind, params, text, buttons, in_reply_to,"
    " idempotency_key, status, attempts, created_at, next_attempt_at)"
    " VALUES (:platform, :chat_id, :kind, :params, :text, :buttons, :in_reply_to,"
    " :idempotency_key, :status, :attempts, :created_at, :next_attempt_at)",
    binds={
        name: _OUTBOX.c[name].type
        for name in ("params", "buttons", "status", "created_at", "next_attempt_at")
    },
)


def take_unsent(*, session: Session, answering: str, lease: timedelta) -> list[OutboxMessage]:
    """The replies to a message that were never confirmed sent and whose sender's lease
    has run out, taken over (leased again) by the caller, in order. Replies still leased
    are on their way, by a live sender or, after the lease, the dispatcher."""
    now = utcnow()
    taken = session.scalars(
        update(OutboxMessage)
        .where(
            OutboxMessage.idempotency_key.in_(
                [reply_key(answering, number) for number in range(MOST_REPLIES)]
            ),
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.next_attempt_at <= now,
        )
        .values(next_attempt_at=now + lease, attempts=OutboxMessage.attempts + 1)
        .returning(OutboxMessage.id)
    ).all()
    if not taken:
        return []
    query = select(OutboxMessage).where(OutboxMessage.id.in_(taken)).order_by(OutboxMessage.id)
    return list(session.scalars(query))


def delivered_all(*, session: Session, replies: Sequence[str]) -> None:
    """These replies (by their keys) confirmed sent, in one statement built once (Core: no
    unit of work; it runs for every few messages)."""
    if replies:
        session.execute(_REPLIES_SENT, {"keys": list(replies), "now": utcnow()})


_SENT = update(_OUTBOX).values(status=OutboxStatus.SENT, sent_at=bindparam("now"), last_error=None)
_REPLIES_SENT = _SENT.where(_OUTBOX.c.idempotency_key.in_(bindparam("keys", expanding=True)))


def release(*, session: Session, replies: Sequence[str], reason: str) -> None:
    """A sender could not send these now: the dispatcher takes them at once, with retries."""
    _unsent(session, replies, reason, next_attempt_at=utcnow())
    if replies:
        session.info[QUEUED] = True


def give_up(*, session: Session, replies: Sequence[str], reason: str) -> None:
    """The chat refuses messages (a blocked bot, an unfollowed account): not tried again."""
    _unsent(session, replies, reason, status=OutboxStatus.FAILED)


def _unsent(session: Session, replies: Sequence[str], reason: str, **change: object) -> None:
    if replies:
        session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.idempotency_key.in_(replies),
                OutboxMessage.status == OutboxStatus.PENDING,
            )
            .values(last_error=reason[:2000], **change)
            .execution_options(synchronize_session=False)
        )


def forget_sent_replies(*, session: Session, before: datetime) -> int:
    """A conversation's replies are not its record (the tickets are): kept two weeks, like
    the record of messages seen, so that a redelivery finds them."""
    result = session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.kind == REPLY,
            OutboxMessage.status != OutboxStatus.PENDING,
            OutboxMessage.created_at < before,
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def notify_department(*, session: Session, department: Department, notice: Notice) -> None:
    """Tell a department: in its notice group when it has one, else its heads one by one."""
    groups = chat.department_chats(session=session, department_id=department.id)
    for group in groups:
        notice_to_chat(
            session=session, platform=group.platform, chat_id=group.chat_id, notice=notice
        )
    if not groups:
        notify_each(
            session=session,
            recipients=people.responsible_for(session=session, department=department),
            notice=notice,
        )


def pending(*, session: Session, limit: int = 100) -> list[OutboxMessage]:
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def for_recipient(*, session: Session, recipient_id: int) -> list[OutboxMessage]:
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.recipient_id == recipient_id)
        .order_by(OutboxMessage.id)
    )
    return list(session.scalars(query))


# The dispatcher's three statements, built once: it claims after nearly every commit.
_DUE = (
    select(OutboxMessage.id)
    .where(
        OutboxMessage.status == OutboxStatus.PENDING,
        OutboxMessage.next_attempt_at <= bindparam("now"),
    )
    .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
_TAKE = (
    update(OutboxMessage)
    .where(
        OutboxMessage.id.in_(bindparam("ids", expanding=True)),
        OutboxMessage.status == OutboxStatus.PENDING,
        OutboxMessage.next_attempt_at <= bindparam("now"),
    )
    .values(next_attempt_at=bindparam("until"), attempts=OutboxMessage.attempts + 1)
    .returning(OutboxMessage.id)
    .execution_options(synchronize_session=False)  # _CLAIMED loads the rows fresh
)
_CLAIMED = (
    select(OutboxMessage)
    .where(OutboxMessage.id.in_(bindparam("ids", expanding=True)))
    .order_by(OutboxMessage.id)
    .execution_options(populate_existing=True)  # a row already in the session: its lease
)


def claim(*, session: Session, now: datetime, lease: timedelta, limit: int) -> list[OutboxMessage]:
    """Notices due for sending, each claimed for ``lease``: a second dispatcher skips them."""
    # On PostgreSQL any number of dispatchers drain the outbox side by side: each skips the
    # rows another has locked; the lease then keeps a claimed row from the next sweep.
    due = session.scalars(_DUE, {"now": now, "limit": limit}).all()
    if not due:
        return []
    # Taken in one statement; a row another dispatcher took meanwhile (its lease moved
    # next_attempt_at on) is not returned.
    claimed = session.scalars(_TAKE, {"ids": list(due), "now": now, "until": now + lease}).all()
    # In the order they were written: one chat's messages must not overtake each other.
    return list(session.scalars(_CLAIMED, {"ids": list(claimed)}))


@dataclass(frozen=True)
class Outcome:
    """How sending one notice went: delivered (``reason`` None), or failed for ``reason``
    and tried again at ``retry_at`` (None: given up for good)."""

    message_id: int
    reason: str | None = None
    retry_at: datetime | None = None


_DELIVERED = _SENT.where(_OUTBOX.c.id.in_(bindparam("ids", expanding=True)))
_RETRY = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("message_id"))
    .values(last_error=bindparam("reason"), next_attempt_at=bindparam("retry_at"))
)
_GIVE_UP = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("message_id"))
    .values(last_error=bindparam("reason"), status=OutboxStatus.FAILED)
)


def settle(*, session: Session, outcomes: Sequence[Outcome]) -> None:
    """What sending notices came to, recorded together: the delivered in one statement, the
    failed with their reasons (a statement built once, run for each)."""
    ids = [outcome.message_id for outcome in outcomes if outcome.reason is None]
    if ids:
        session.execute(_DELIVERED, {"ids": ids, "now": utcnow()})
    retried = [o for o in outcomes if o.reason is not None and o.retry_at is not None]
    given_up = [o for o in outcomes if o.reason is not None and o.retry_at is None]
    if retried:
        session.execute(
            _RETRY,
            [
                {
                    "message_id": o.message_id,
                    "reason": (o.reason or "")[:2000],
                    "retry_at": o.retry_at,
                }
                for o in retried
            ],
        )
    if given_up:
        session.execute(
            _GIVE_UP,
            [{"message_id": o.message_id, "reason": (o.reason or "")[:2000]} for o in given_up],
        )

"""Personal information (个人信息保护法): who may read an owner's phone number, everything
held about a person (their copy of it), and erasing it while the estate's records stay.

An owner's number is shown in full only where the work needs it: to the desk, who calls
owners back and registers their requests, and to the technician the ticket is assigned to,
who has to reach the owner to come in. Everyone and everything else (other staff, group
chats, the command line, logs) reads it masked, 138****8001.
"""

from __future__ import annotations

import enum
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Enum,
    String,
    Text,
    and_,
    cast,
    delete,
    false,
    inspect,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import Session

from storage.attachment.models import AttachmentPurpose
from storage.audit import service as audit
from storage.audit.models import AuditErasure
from storage.clock import utcnow
from storage.errors import NotFound, PermissionDenied
from storage.models import (
    AnnouncementDelivery,
    Attachment,
    AuditEvent,
    Base,
    BindingRequest,
    Callback,
    ChatIdentity,
    ChatWindow,
    Conversation,
    FailedBinding,
    InviteCode,
    OutboxMessage,
    Person,
    Residency,
    SeenMessage,
    StaffMember,
    SurveyInvitation,
    Ticket,
)
from storage.people import service as people
from storage.people.models import DESK_ROLES

# ---------------------------------------------------------------- reading a phone number

# The contact phone of a ticket as one reader may see it (``phones_for``).
PhoneOf = Callable[[Ticket], str | None]


def mask_name(name: str) -> str:
    """张伟 → 张*: a sheet put in a mailbox names the resident without naming them."""
    return name[:1] + "*" * max(len(name) - 1, 1)


def mask_phone(phone: str) -> str:
    """138****8001: enough to tell numbers apart and to recognise one's own, not to dial."""
    if len(phone) < 8:
        # The first three and the last four of a short number would be all of it.
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def sees_phone(*, session: Session, viewer: Person | None, ticket: Ticket) -> bool:
    """Whether ``viewer`` reads the ticket's contact phone in full: the owner their own
    number, the desk (DESK_ROLES) of the ticket's estate, and the technician it is
    assigned to. Nobody in particular (None: a group chat, the command line) does not."""
    if viewer is None:
        return False
    if viewer.id == ticket.reporter_id or (
        viewer.phone is not None and viewer.phone == ticket.contact_phone
    ):
        return True
    post = people.staff_post(session=session, person_id=viewer.id, estate_id=ticket.estate_id)
    return post is not None and (post.role in DESK_ROLES or post.id == ticket.assignee_id)


def phone_for(*, session: Session, viewer: Person | None, ticket: Ticket) -> str | None:
    """The ticket's contact phone as ``viewer`` may read it; None when it has none."""
    phone = ticket.contact_phone
    if phone is None:
        return None
    return phone if sees_phone(session=session, viewer=viewer, ticket=ticket) else mask_phone(phone)


def phones_for(*, session: Session, viewer: Person | None) -> PhoneOf:
    """``phone_for`` for one reader, for what names several tickets (a notice, a listing)."""
    return lambda ticket: phone_for(session=session, viewer=viewer, ticket=ticket)


# ---------------------------------------------------------------- what is held about a person

EXPORTED, FORGOTTEN = "exported", "forgotten"  # the two lines of a person's own trail


def find_by_phone(*, session: Session, phone: str) -> Person:
    """Whoever has this number on file, resident or staff (an import makes one number one
    person); the refusal names the number masked, as every line of a log does."""
    wanted = people.normalize_phone(phone)
    person = (
        session.scalar(select(Person).where(Person.phone == wanted).order_by(Person.id).limit(1))
        if wanted
        else None
    )
    if person is None:
        raise NotFound("没有登记手机号 {phone} 的人员", phone=mask_phone(wanted))
    return person


@dataclass
class _Held:
    """Everything about one person, found once for their export and for their erasure."""

    residencies: list[Residency]
    staff_posts: list[StaffMember]
    identities: list[ChatIdentity]
    invites: list[InviteCode]
    bindings: list[BindingRequest]
    tickets: list[Ticket]
    callbacks: list[Callback]
    conversations: list[Conversation]
    failed_bindings: list[FailedBinding]
    outbox: list[OutboxMessage]
    audit: list[AuditEvent]

    @property
    def chats(self) -> list[tuple[str, str]]:
        """(platform, id) of their chat accounts. A private chat's id is the account's id on
        Telegram and WeChat alike, so these are also their private chats."""
        return [(i.platform, i.external_id) for i in self.identities] + [
            (b.platform, b.external_id) for b in self.bindings
        ]


def _in_chats(platform: Any, chat: Any, chats: list[tuple[str, str]]) -> ColumnElement[bool]:
    return tuple_(platform, chat).in_(chats) if chats else false()


def _held(session: Session, person: Person) -> _Held:
    def rows(query: Any) -> list[Any]:
        return list(session.scalars(query))

    identities = rows(
        select(ChatIdentity).where(ChatIdentity.person_id == person.id).order_by(ChatIdentity.id)
    )
    bindings = rows(
        select(BindingRequest)
        .where(BindingRequest.person_id == person.id)
        .order_by(BindingRequest.id)
    )
    tickets = rows(select(Ticket).where(Ticket.reporter_id == person.id).order_by(Ticket.id))
    ticket_ids = [t.id for t in tickets]
    callbacks = rows(
        select(Callback).where(Callback.ticket_id.in_(ticket_ids)).order_by(Callback.id)
    )
    held = _Held(
        residencies=rows(
            select(Residency).where(Residency.person_id == person.id).order_by(Residency.id)
        ),
        staff_posts=rows(
            select(StaffMember).where(StaffMember.person_id == person.id).order_by(StaffMember.id)
        ),
        identities=identities,
        invites=rows(
            select(InviteCode).where(InviteCode.person_id == person.id).order_by(InviteCode.id)
        ),
        bindings=bindings,
        tickets=tickets,
        callbacks=callbacks,
        conversations=[],
        failed_bindings=[],
        outbox=[],
        audit=[],
    )
    chats = held.chats
    held.conversations = rows(
        select(Conversation)
        .where(_in_chats(Conversation.platform, Conversation.user_id, chats))
        .order_by(Conversation.id)
    )
    held.failed_bindings = rows(
        select(FailedBinding)
        .where(_in_chats(FailedBinding.platform, FailedBinding.external_id, chats))
        .order_by(FailedBinding.id)
    )
    held.outbox = rows(
        select(OutboxMessage)
        .where(
            or_(
                OutboxMessage.recipient_id == person.id,
                _in_chats(OutboxMessage.platform, OutboxMessage.chat_id, chats),
            )
        )
        .order_by(OutboxMessage.id)
    )
    about = [
        (Person.audit_type, [person.id]),
        (Ticket.audit_type, ticket_ids),
        (Callback.audit_type, [c.id for c in callbacks]),
        (BindingRequest.audit_type, [b.id for b in bindings]),
    ]
    held.audit = rows(
        select(AuditEvent)
        .where(
            or_(
                AuditEvent.actor_id == person.id,
                *(
                    and_(AuditEvent.object_type == kind, AuditEvent.object_id.in_(ids))
                    for kind, ids in about
                    if ids
                ),
            )
        )
        .order_by(AuditEvent.id)
    )
    return held


def _plain(value: object) -> object:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _columns(row: Base) -> dict[str, object]:
    """Every column of a row as it is stored: a person's copy holds nothing back."""
    return {attr.key: _plain(getattr(row, attr.key)) for attr in inspect(row).mapper.column_attrs}


def export(*, session: Session, person: Person, requested_by: str) -> dict[str, Any]:
    """Everything held about ``person``, as JSON-ready data (their right to a copy); the
    export itself goes into their trail, with who asked for it."""
    held = _held(session, person)
    attachments: dict[int, list[Attachment]] = {}
    for attachment in session.scalars(
        select(Attachment)
        .where(Attachment.ticket_id.in_([t.id for t in held.tickets]))
        .order_by(Attachment.id)
    ):
        attachments.setdefault(attachment.ticket_id or 0, []).append(attachment)
    data: dict[str, Any] = {
        "exported_at": utcnow().isoformat(),
        "person": _columns(person),
        "residencies": [
            _columns(r) | {"unit": r.unit.designation, "estate_id": r.unit.estate_id}
            for r in held.residencies
        ],
        "staff_posts": [_columns(p) for p in held.staff_posts],
        "chat_identities": [_columns(i) for i in held.identities],
        "invite_codes": [_columns(i) for i in held.invites],
        "binding_requests": [_columns(b) for b in held.bindings],
        "tickets": [
            _columns(t)
            | {
                "number": t.number,
                "where": t.where,
                "attachments": [_columns(a) for a in attachments.get(t.id, [])],
                "callbacks": [_columns(c) for c in held.callbacks if c.ticket_id == t.id],
            }
            for t in held.tickets
        ],
        "conversations": [_columns(c) for c in held.conversations],
        "failed_bindings": [_columns(f) for f in held.failed_bindings],
        "outbox_messages": [_columns(m) for m in held.outbox],
        "survey_answers": [
            _columns(i) | {"unit": i.unit.designation, "period": i.survey.period}
            for i in session.scalars(
                select(SurveyInvitation)
                .where(SurveyInvitation.person_id == person.id)
                .order_by(SurveyInvitation.id)
            )
        ],
        "notices_received": [
            _columns(d)
            for d in session.scalars(
                select(AnnouncementDelivery)
                .where(AnnouncementDelivery.person_id == person.id)
                .order_by(AnnouncementDelivery.id)
            )
        ],
        "audit_events": [_columns(e) for e in held.audit],
    }
    audit.record(
        session=session,
        obj=person,
        from_state=None,
        to_state=EXPORTED,
        actor=None,
        note=f"个人信息导出（{requested_by}）",
    )
    return data


# ---------------------------------------------------------------- erasing a person

ANONYMOUS_OWNER = "已注销业主#{id}"
ANONYMOUS_STAFF = "已注销人员#{id}"  # a former member of staff
REMOVED = "（已删除）"
# What a person wrote, looked for in the copies of it (notices, the trail's notes): a shorter
# text says no more than the ticket's category and would cut into the words around it.
SHORTEST_COPY = 4
# Held by who they are, not by what they say: another person may bear the same name.
NOT_SWEPT_TABLES = frozenset({Person.__tablename__, "shared_value"})
NOT_SWEPT_COLUMNS = frozenset({(AuditEvent.__tablename__, "actor_label")})


@dataclass
class Forgotten:
    """What erasing a person did, for the operator and the trail."""

    person_id: int
    label: str  # the name the person's rows go by now
    removed: Counter[str] = field(default_factory=Counter)  # rows deleted, by table
    blanked: Counter[str] = field(default_factory=Counter)  # rows cleared or scrubbed, by table
    # Photos and voice notes the owner sent, no longer referenced: the caller removes the
    # files once the erasure is committed (``remove_files``).
    files: list[str] = field(default_factory=list)


def _replace(value: Any, replacements: Mapping[str, str]) -> Any:
    """``value`` with each key replaced, through the strings of JSON data too."""
    if isinstance(value, str):
        for old, new in replacements.items():
            value = value.replace(old, new)
        return value
    if isinstance(value, list):
        return [_replace(item, replacements) for item in value]
    if isinstance(value, dict):
        return {key: _replace(item, replacements) for key, item in value.items()}
    return value


def _own_words(held: _Held) -> dict[str, str]:
    """What the person wrote (and the desk wrote down for them), longest first so that a
    rework's description goes before the original description inside it."""
    texts: set[str] = set()
    for ticket in held.tickets:
        texts.update(filter(None, (ticket.description, ticket.subject, ticket.preferred_time)))
    texts.update(filter(None, (c.note for c in held.callbacks)))
    kept = sorted((t for t in texts if len(t) >= SHORTEST_COPY), key=len, reverse=True)
    return dict.fromkeys(kept, REMOVED)


def forget(*, session: Session, person: Person, requested_by: str) -> Forgotten:
    """Erase ``person``: their accounts, conversations, binding requests, residencies and
    messages go; their row, tickets, callbacks and trail stay, under an anonymous name and
    without their number or what they wrote, so that every figure of every month stays as
    it was. Their name and number are then swept from every text the database holds."""
    if any(post.active for post in person.staff_posts):
        raise PermissionDenied(
            "人员 #{person_id} 仍在岗，请先停用其岗位再注销", person_id=person.id
        )
    held = _held(session, person)
    name, phone = person.name, person.phone
    template = ANONYMOUS_STAFF if held.staff_posts else ANONYMOUS_OWNER
    done = Forgotten(person_id=person.id, label=template.format(id=person.id))
    words = _own_words(held)
    ticket_ids = [t.id for t in held.tickets]

    # Tickets keep their number, kind, category, unit, dates, states and deadlines: what
    # the figures count. What the owner said, and how to reach them, goes.
    for ticket in held.tickets:
        ticket.description = REMOVED
        ticket.subject = REMOVED if ticket.subject is not None else None
        ticket.contact_phone = None
        ticket.preferred_time = None
        done.blanked[Ticket.__tablename__] += 1
    for callback in held.callbacks:  # the satisfaction stays, the owner's words go
        callback.note = None
        done.blanked[Callback.__tablename__] += 1
    sent = (Attachment.ticket_id.in_(ticket_ids)) & (
        Attachment.purpose == AttachmentPurpose.REPORT.value
    )
    refs = set(session.scalars(select(Attachment.ref).where(sent)))
    _delete(session, done, Attachment, sent)
    # A file is kept once however often it was sent: one still attached elsewhere stays.
    still = set(session.scalars(select(Attachment.ref).where(Attachment.ref.in_(refs))))
    done.files = sorted(refs - still)

    # The trail keeps every row: the person's own under their new name, without their words.
    # The database lets the trail be rewritten so only while this erasure is marked in it.
    erasure = AuditErasure(person_id=person.id)
    session.add(erasure)
    session.flush()
    for event in held.audit:
        if event.actor_id == person.id:
            event.actor_label, event.note = done.label, None
        elif event.note and (note := _replace(event.note, words)) != event.note:
            event.note = note
        else:
            continue
        done.blanked[AuditEvent.__tablename__] += 1

    chats = held.chats
    gone: list[tuple[type[Base], ColumnElement[bool]]] = [
        (Conversation, _in_chats(Conversation.platform, Conversation.user_id, chats)),
        (ChatWindow, _in_chats(ChatWindow.platform, ChatWindow.chat_id, chats)),
        (SeenMessage, _in_chats(SeenMessage.platform, SeenMessage.chat_id, chats)),
        (FailedBinding, _in_chats(FailedBinding.platform, FailedBinding.external_id, chats)),
        (OutboxMessage, OutboxMessage.id.in_([m.id for m in held.outbox])),
        (BindingRequest, BindingRequest.person_id == person.id),
        (InviteCode, InviteCode.person_id == person.id),
        (ChatIdentity, ChatIdentity.person_id == person.id),
        (Residency, Residency.person_id == person.id),
    ]
    for model, where in gone:
        _delete(session, done, model, where)

    # What others were told about the owner's tickets quoted the owner's words.
    numbers = [t.number for t in held.tickets]
    if numbers and words:
        for message in session.scalars(
            select(OutboxMessage).where(
                or_(*(OutboxMessage.text.contains(n, autoescape=True) for n in numbers))
            )
        ):
            text, params = _replace(message.text, words), _replace(message.params, words)
            if (text, params) != (message.text, message.params):
                message.text, message.params = text, params
                done.blanked[OutboxMessage.__tablename__] += 1

    # A survey's answers stay in its figures; the remark was the person's own words.
    for invitation in session.scalars(
        select(SurveyInvitation).where(
            SurveyInvitation.person_id == person.id, SurveyInvitation.remark.is_not(None)
        )
    ):
        invitation.remark = None
        done.blanked[SurveyInvitation.__tablename__] += 1
    alt_phone = person.alt_phone
    person.name, person.phone, person.alt_phone = done.label, None, None
    session.flush()
    sweep: dict[str, str] = {}
    if phone:
        sweep |= {phone: REMOVED, mask_phone(phone): REMOVED}
    if alt_phone:
        sweep[alt_phone] = REMOVED
    if len(name) >= 2:  # a one-letter name would be found in every other word
        sweep[name] = done.label
    done.blanked.update(_sweep(session, sweep))
    # The trail is append-only again before anything else is written in this transaction.
    session.execute(delete(AuditErasure).where(AuditErasure.id == erasure.id))
    # The sweep wrote past the ORM: what the session holds is read again when next used.
    session.expire_all()
    audit.record(
        session=session,
        obj=person,
        from_state=None,
        to_state=FORGOTTEN,
        actor=None,
        note=f"个人信息注销（{requested_by}）",
    )
    return done


def _delete(session: Session, done: Forgotten, model: type[Base], where: Any) -> None:
    # Not synchronised with the session: nothing deleted here is used again, and what the
    # session holds is expired once the erasure is written.
    result = session.execute(
        delete(model).where(where), execution_options={"synchronize_session": False}
    )
    count = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if count:
        done.removed[model.__tablename__] += count


def _sweep(session: Session, replacements: Mapping[str, str]) -> Counter[str]:
    """Each of ``replacements`` replaced in every text column of every table (JSON ones
    too), wherever someone copied a name or a number into a note, a notice, a draft.

    Every text column, not a list of them: a column added later is swept without anyone
    remembering to. It reads whole columns, which an erasure, done now and then, can afford.
    """
    swept: Counter[str] = Counter()
    if not replacements:
        return swept
    for table in Base.metadata.sorted_tables:
        if table.name in NOT_SWEPT_TABLES:
            continue
        key = list(table.primary_key.columns)
        for column in table.columns:
            if (table.name, column.name) in NOT_SWEPT_COLUMNS or isinstance(column.type, Enum):
                continue
            if isinstance(column.type, JSON):
                # Kept as json.dumps writes it: Chinese as \uXXXX escapes.
                searched: Any = cast(column, Text)
                forms = {*replacements, *(json.dumps(old)[1:-1] for old in replacements)}
            elif isinstance(column.type, String):
                searched, forms = column, set(replacements)
            else:
                continue
            found = session.execute(
                select(*key, column).where(
                    or_(*(searched.contains(form, autoescape=True) for form in sorted(forms)))
                )
            )
            for row in found.all():
                new = _replace(row[-1], replacements)
                length = getattr(column.type, "length", None)
                if isinstance(new, str) and length is not None:
                    new = new[:length]
                if new == row[-1]:
                    continue
                session.execute(
                    update(table)
                    .where(*(c == v for c, v in zip(key, row[:-1], strict=True)))
                    .values({column.name: new})
                )
                swept[table.name] += 1
    return swept


def remove_files(refs: Iterable[str], *, attachments_dir: Path) -> int:
    """Delete the files behind ``refs`` that are in the attachments folder; a platform's
    file id (``telegram:…``) names no file here. Returns how many were removed."""
    folder = attachments_dir.resolve()
    removed = 0
    for ref in refs:
        path = Path(ref).resolve()
        if path.is_relative_to(folder) and path.is_file():
            path.unlink()
            removed += 1
    return removed

"""Binding a chat identity to a person: a one-time code, or unit number plus phone on file."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Collection
from datetime import timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from storage.clock import utcnow
from storage.database import settings_of
from storage.errors import DomainError, IllegalTransition, NotFound, PermissionDenied
from storage.estate import service as estates
from storage.estate.models import Unit
from storage.i18n import N_
from storage.identity import attempts, notices
from storage.identity.models import (
    BINDING_STATUS_LABELS,
    BindingRequest,
    BindingStatus,
    ChatIdentity,
    InviteCode,
)
from storage.outbox import service as outbox
from storage.outbox.notice import Notice
from storage.people import roster
from storage.people import service as people
from storage.people.models import DESK_ROLES, RELATION_LABELS, Person, Residency, ResidentRelation
from storage.text import required
from storage.workflow import StateMachine

BINDING_FLOW = StateMachine(
    N_("绑定申请"),
    {BindingStatus.PENDING: frozenset({BindingStatus.APPROVED, BindingStatus.REFUSED})},
    BINDING_STATUS_LABELS,
    entries=frozenset({BindingStatus.PENDING}),
)
# No 0/O, 1/I/L: codes are read aloud over the phone and copied from paper.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8


def looks_like_invite(text: str) -> bool:
    """What a binding code looks like: a person pasting one as their first message means it."""
    code = text.strip().upper()
    return len(code) == CODE_LENGTH and all(c in CODE_ALPHABET for c in code)


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().replace("-", "").encode()).hexdigest()


# Run for every message: built once, SQLAlchemy neither rebuilds it nor its cache key.
_ACCOUNT = select(ChatIdentity).where(
    ChatIdentity.platform == bindparam("platform"),
    ChatIdentity.external_id == bindparam("external_id"),
)


def identify(*, session: Session, platform: str, external_id: str) -> Person | None:
    identity = session.scalar(_ACCOUNT, {"platform": platform, "external_id": external_id})
    return identity.person if identity is not None else None


def create_invite(
    *, session: Session, person: Person, estate_id: int, valid_days: int | None = None
) -> str:
    """A fresh code for ``person``; the plain code is returned once and never stored."""
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    days = valid_days or settings_of(session).invite_valid_days
    session.add(
        InviteCode(
            code_hash=_hash(code),
            person=person,
            estate_id=estate_id,
            expires_at=utcnow() + timedelta(days=days),
        )
    )
    return code


def _bind(*, session: Session, person: Person, platform: str, external_id: str) -> ChatIdentity:
    identity = session.scalar(
        select(ChatIdentity).where(
            ChatIdentity.platform == platform, ChatIdentity.external_id == external_id
        )
    )
    if identity is not None:
        if identity.person_id != person.id:
            raise PermissionDenied("这个账号已绑定了另一位用户，请联系客服中心")
        return identity
    identity = ChatIdentity(platform=platform, external_id=external_id, person=person)
    session.add(identity)
    session.flush()
    return identity


def redeem_invite(*, session: Session, code: str, platform: str, external_id: str) -> Person:
    """Raises ``attempts.WrongAnswer`` for a code that binds nobody (the caller counts it), and
    ``attempts.BindingPaused`` while the account is paused, before the code is looked at."""
    attempts.check_binding_allowed(session=session, platform=platform, external_id=external_id)
    # One answer for unknown, used and expired codes: the reply must not help guessing.
    invalid = attempts.WrongAnswer(N_("绑定码无效或已过期，请向客服中心索取新的绑定码"))
    invite = session.scalar(
        select(InviteCode).where(InviteCode.code_hash == _hash(code)).with_for_update(of=InviteCode)
    )
    if invite is None or invite.used_at is not None or invite.expires_at <= utcnow():
        raise invalid
    identity = _bind(
        session=session, person=invite.person, platform=platform, external_id=external_id
    )
    invite.used_at = utcnow()
    invite.used_by_identity_id = identity.id
    attempts.note_binding(
        platform=platform, external_id=external_id, person_id=invite.person_id, requested=False
    )
    return invite.person


def bind_by_unit_and_phone(
    *,
    session: Session,
    estate_id: int,
    designation: str,
    phone: str,
    platform: str,
    external_id: str,
) -> Person | None:
    """Bind at once, or (WUYE_BIND_REQUIRES_APPROVAL) file a request for the desk and
    return None: the resident is told when the desk has decided.

    A unit that does not exist and a phone that does not match get the same
    ``attempts.WrongAnswer`` (the caller counts it); while the account or the unit is paused,
    ``attempts.BindingPaused``, before the phone is looked at."""
    try:
        unit: Unit | None = estates.find_unit(
            session=session, estate_id=estate_id, designation=designation
        )
    except DomainError:
        unit = None
    unit_id = unit.id if unit is not None else None
    attempts.check_binding_allowed(
        session=session, platform=platform, external_id=external_id, unit_id=unit_id
    )
    mismatch = attempts.WrongAnswer(
        N_("房号或手机号与物业登记的不一致，请核对或联系客服中心"), unit_id=unit_id
    )
    wanted = people.normalize_phone(phone)
    if unit is None or not wanted:
        raise mismatch
    residents = session.scalars(
        select(Person)
        .join(Residency, Residency.person_id == Person.id)
        .where(Residency.unit_id == unit.id, Person.phone == wanted)
    ).all()
    if len(residents) != 1:
        raise mismatch
    person = residents[0]
    if not settings_of(session).bind_requires_approval:
        _bind(session=session, person=person, platform=platform, external_id=external_id)
        attempts.note_binding(
            platform=platform, external_id=external_id, person_id=person.id, requested=False
        )
        return person
    attempts.note_binding(
        platform=platform, external_id=external_id, person_id=person.id, requested=True
    )
    already = waiting_request(session=session, platform=platform, external_id=external_id)
    if already is None:
        _file_request(
            session,
            BindingRequest(
                platform=platform,
                external_id=external_id,
                person=person,
                estate_id=estate_id,
                unit_designation=unit.designation,
                created_at=utcnow(),
            ),
            note=f"{unit.designation} · {platform}",
            notice=notices.binding_requested,
        )
    return None


def _file_request(
    session: Session,
    request: BindingRequest,
    *,
    note: str,
    notice: Callable[[BindingRequest], Notice],
) -> None:
    """A binding request waiting for the desk, in its trail, and the desk told at once."""
    BINDING_FLOW.start(
        session=session, obj=request, state=BindingStatus.PENDING, actor=request.person, note=note
    )
    outbox.notify_each(
        session=session,
        recipients=people.desk_staff(session=session, estate_id=request.estate_id),
        notice=notice(request),
    )


def waiting_request(*, session: Session, platform: str, external_id: str) -> BindingRequest | None:
    """This account's binding request the desk has not decided yet, if any."""
    return session.scalar(
        select(BindingRequest).where(
            BindingRequest.platform == platform,
            BindingRequest.external_id == external_id,
            BindingRequest.status == BindingStatus.PENDING,
        )
    )


def request_to_join(
    *,
    session: Session,
    estate_id: int,
    designation: str,
    name: str,
    relation: ResidentRelation,
    phone: str,
    platform: str,
    external_id: str,
) -> BindingRequest:
    """Someone the roster does not have asks to be added to a unit (a new owner, a family
    member, a tenant): the desk approves it, and they are recorded and bound in one step.

    Through the same pause as every other way to bind; one request waits per account.
    Whether the unit exists is the desk's to check (a stranger must not learn it here)."""
    attempts.check_binding_allowed(session=session, platform=platform, external_id=external_id)
    already = waiting_request(session=session, platform=platform, external_id=external_id)
    if already is not None:
        raise IllegalTransition("您的绑定申请正在审核中，客服中心审核后会通知您。")
    building, number = estates.parse_designation(designation)
    person = Person(
        name=required(name, N_("姓名"), max_length=100), phone=roster.check_phone(phone)
    )
    session.add(person)
    request = BindingRequest(
        platform=platform,
        external_id=external_id,
        person=person,
        estate_id=estate_id,
        unit_designation=f"{building}-{number}",
        joins_as=relation,
        created_at=utcnow(),
    )
    _file_request(
        session,
        request,
        note=f"{request.unit_designation} {RELATION_LABELS[relation]} · {platform}",
        notice=notices.join_requested,
    )
    attempts.note_binding(
        platform=platform, external_id=external_id, person_id=person.id, requested=True
    )
    return request


def joining_conflict(*, session: Session, request: BindingRequest) -> str | None:
    """Why a request to be added to the roster cannot be approved, or None: its unit does
    not exist, or its phone is on file for someone else (a phone is one person's)."""
    if request.joins_as is None:
        return None
    try:
        estates.find_unit(
            session=session, estate_id=request.estate_id, designation=request.unit_designation
        )
    except DomainError as error:
        return str(error)
    holder = roster.phone_holder(session, request.person.phone or "", request.person)
    return f"手机号已登记给 {holder.name}" if holder is not None else None


def pending_bindings(*, session: Session, estate_id: int) -> list[BindingRequest]:
    query = (
        select(BindingRequest)
        .where(
            BindingRequest.estate_id == estate_id, BindingRequest.status == BindingStatus.PENDING
        )
        .order_by(BindingRequest.id)
    )
    return list(session.scalars(query))


def decide_binding(
    *, session: Session, request_id: int, actor: Person, approve: bool
) -> BindingRequest:
    request = session.get(BindingRequest, request_id, with_for_update={"of": BindingRequest})
    if request is None:
        raise NotFound("找不到绑定申请 #{request_id}", request_id=request_id)
    people.require_staff(
        session=session,
        actor=actor,
        estate_id=request.estate_id,
        roles=DESK_ROLES,
        doing=N_("审核绑定"),
    )
    if request.status is not BindingStatus.PENDING:
        raise IllegalTransition("这份绑定申请已处理过了")
    BINDING_FLOW.move(
        session=session,
        obj=request,
        target=BindingStatus.APPROVED if approve else BindingStatus.REFUSED,
        actor=actor,
    )
    request.decided_by_id, request.decided_at = actor.id, utcnow()
    if approve and request.joins_as is not None:
        # Recorded as living there first: the unit must exist and the phone be nobody else's.
        unit = estates.find_unit(
            session=session, estate_id=request.estate_id, designation=request.unit_designation
        )
        roster.take_in(
            session=session,
            unit=unit,
            person=request.person,
            relation=request.joins_as,
            actor=actor,
            by=f"绑定申请 #{request.id}",
        )
    if not approve and request.joins_as is not None and not request.person.residencies:
        # A stranger's refused request keeps their name in the trail, not a phone they may
        # have typed for someone else.
        request.person.phone = None
    if approve:
        _bind(
            session=session,
            person=request.person,
            platform=request.platform,
            external_id=request.external_id,
        )
    notice = notices.binding_decided(request, approved=approve)
    if approve:
        outbox.notify(session=session, recipient=request.person, notice=notice)
    else:
        # Refused, the account is bound to nobody: the answer goes to the chat it asked from.
        outbox.notice_to_chat(
            session=session,
            platform=request.platform,
            chat_id=request.external_id,
            notice=notice,
        )
    return request


def identities_of(*, session: Session, person_id: int) -> list[ChatIdentity]:
    """A person's chat accounts, the most recently bound first."""
    return identities_of_each(session=session, person_ids=[person_id]).get(person_id, [])


# Built once: asked for each round of notices the dispatcher sends.
_IDENTITIES_OF_EACH = (
    select(ChatIdentity)
    .where(ChatIdentity.person_id.in_(bindparam("person_ids", expanding=True)))
    .order_by(ChatIdentity.created_at.desc(), ChatIdentity.id.desc())
)


def identities_of_each(
    *, session: Session, person_ids: Collection[int]
) -> dict[int, list[ChatIdentity]]:
    """Each person's chat accounts, the most recently bound first, in one query (a person
    with none is not in it)."""
    found: dict[int, list[ChatIdentity]] = {}
    if person_ids:
        for account in session.scalars(_IDENTITIES_OF_EACH, {"person_ids": list(set(person_ids))}):
            found.setdefault(account.person_id, []).append(account)
    return found


def link_account(
    *, session: Session, person: Person, platform: str, external_id: str
) -> ChatIdentity:
    """Link an account the company manages itself (a WeCom user id) to a staff member."""
    return _bind(session=session, person=person, platform=platform, external_id=external_id)

"""Pausing binding for guessers: the one rule, counted in the database so every worker agrees.

A wrong code or a unit + phone that does not match is a failure. When one chat account
(platform + account) reaches ``bind_failures_per_chat`` failures within
``bind_pause_minutes``, or one unit reaches ``bind_failures_per_unit`` wrong phones
from anyone within it, binding pauses for ``bind_pause_minutes`` from that failure:
every answer is refused unseen, the right one too, so a guess learns nothing. Nothing is
counted while paused, so a pause ends on time however often the guesser knocks.

What was typed (a code, a phone) is neither stored nor logged: the record is who answered,
when, and the unit when it exists. Counted in ``wuye_binding_attempts_total``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from prometheus_client import Counter
from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from storage.clock import format_local, utcnow
from storage.database import settings_of
from storage.errors import DomainError, InvalidInput
from storage.estate.models import Unit
from storage.i18n import N_
from storage.identity.models import FailedBinding

log = logging.getLogger(__name__)

# Here, not in bot/metrics.py: storage counts the event, and bot exposes the default registry.
BINDING_ATTEMPTS = Counter(
    "wuye_binding_attempts_total",
    "Answers to binding's questions (a code, a unit and phone), by outcome",
    ["outcome"],
)
BOUND, REQUESTED, WRONG, PAUSED = "bound", "requested", "wrong", "paused"
for _outcome in (BOUND, REQUESTED, WRONG, PAUSED):
    BINDING_ATTEMPTS.labels(_outcome)  # each outcome scraped from the start, at 0
# Failures older than this are forgotten by the clock; a day's are kept to be looked into.
KEPT = timedelta(days=1)


class WrongAnswer(InvalidInput):
    """A code or a unit + phone that binds nobody, in the same words whatever was wrong. Raised
    having written nothing: whoever keeps the transaction counts it with
    ``note_failed_binding(unit_id=error.unit_id)``."""

    def __init__(self, template: str, /, *, unit_id: int | None = None) -> None:
        self.unit_id = unit_id  # the unit named, when it exists: its failures count too
        super().__init__(template)


class BindingPaused(DomainError):
    """Too many wrong answers: binding waits until ``resumes_at``. Not an ``InvalidInput``: the
    flow ends with this message rather than ask again."""

    def __init__(self, resumes_at: datetime, *, tz: ZoneInfo) -> None:
        self.resumes_at = resumes_at
        # Shown to the minute, rounded up: "after 09:15" must not be a few seconds too early.
        shown = resumes_at.replace(second=0, microsecond=0)
        if shown < resumes_at:
            shown += timedelta(minutes=1)
        super().__init__(
            N_("尝试次数过多，为保护业主信息，绑定已暂停。请在 {time} 后再试，或联系客服中心。"),
            time=format_local(shown, tz),
        )


def _pause(session: Session) -> timedelta:
    return timedelta(minutes=settings_of(session).bind_pause_minutes)


def _pause_ends(failures: Sequence[datetime], *, limit: int, pause: timedelta) -> datetime | None:
    """When the last pause these failures (oldest first) started ends: a failure starts one when
    it is the ``limit``-th within ``pause`` (itself included)."""
    ends = None
    for i in range(limit - 1, len(failures)):
        if failures[i] - failures[i - limit + 1] < pause:
            ends = failures[i] + pause
    return ends


def _account(platform: str, external_id: str) -> tuple[ColumnElement[bool], ...]:
    return (FailedBinding.platform == platform, FailedBinding.external_id == external_id)


def paused_until(
    *, session: Session, platform: str, external_id: str, unit_id: int | None = None
) -> datetime | None:
    """When binding resumes for this account (and this unit), or None when it is not paused."""
    settings, now, pause = settings_of(session), utcnow(), _pause(session)
    # A pause still running was started by a failure of the last pause's length, counted with
    # those up to a pause's length before it: older failures cannot matter.
    since = FailedBinding.failed_at > now - 2 * pause
    failed_at = select(FailedBinding.failed_at).order_by(FailedBinding.failed_at)
    ends = [
        _pause_ends(
            session.scalars(failed_at.where(since, *_account(platform, external_id))).all(),
            limit=settings.bind_failures_per_chat,
            pause=pause,
        )
    ]
    if unit_id is not None:
        unit_failures = session.scalars(failed_at.where(since, FailedBinding.unit_id == unit_id))
        ends.append(
            _pause_ends(unit_failures.all(), limit=settings.bind_failures_per_unit, pause=pause)
        )
    latest = max((end for end in ends if end is not None), default=None)
    return latest if latest is not None and latest > now else None


def check_binding_allowed(
    *, session: Session, platform: str, external_id: str, unit_id: int | None = None
) -> None:
    """Raises ``BindingPaused`` while this account, or this unit, is paused. Asked before an
    answer is looked at, so that a paused guess is refused whether it is right or not."""
    resumes_at = paused_until(
        session=session, platform=platform, external_id=external_id, unit_id=unit_id
    )
    if resumes_at is None:
        return
    BINDING_ATTEMPTS.labels(PAUSED).inc()
    log.info(
        "binding refused for %s:%s: paused until %s",
        platform,
        external_id,
        resumes_at.isoformat(),
        extra={"platform": platform, "binding": PAUSED},
    )
    raise BindingPaused(resumes_at, tz=settings_of(session).tz)


def note_failed_binding(
    *, session: Session, platform: str, external_id: str, unit_id: int | None = None
) -> BindingPaused | None:
    """Count a wrong answer (a unit that exists, or None); the pause it starts, if it does.

    Returned, not raised: the caller keeps this row (a refused chat step's writes are rolled
    back) and tells the person both that the answer was wrong and that binding is paused."""
    session.add(FailedBinding(platform=platform, external_id=external_id, unit_id=unit_id))
    session.flush()
    BINDING_ATTEMPTS.labels(WRONG).inc()
    # The unit as the estate writes it, never as typed: someone may type a phone there.
    unit = session.get(Unit, unit_id) if unit_id is not None else None
    where = unit.designation if unit is not None else None
    resumes_at = paused_until(
        session=session, platform=platform, external_id=external_id, unit_id=unit_id
    )
    log.info(
        "binding answer wrong from %s:%s (unit %s)",
        platform,
        external_id,
        where or "unknown or none",
        extra={"platform": platform, "unit": where, "binding": WRONG},
    )
    if resumes_at is None:
        return None
    log.warning(
        "binding paused for %s:%s (unit %s) until %s",
        platform,
        external_id,
        where or "unknown or none",
        resumes_at.isoformat(),
        extra={"platform": platform, "unit": where, "binding": PAUSED},
    )
    return BindingPaused(resumes_at, tz=settings_of(session).tz)


def note_binding(*, platform: str, external_id: str, person_id: int, requested: bool) -> None:
    """A right answer: bound at once, or (``requested``) filed for the desk to approve."""
    outcome = REQUESTED if requested else BOUND
    BINDING_ATTEMPTS.labels(outcome).inc()
    log.info(
        "binding %s for %s:%s as person #%d",
        outcome,
        platform,
        external_id,
        person_id,
        extra={"platform": platform, "binding": outcome},
    )


def forget_failed_bindings(*, session: Session, now: datetime) -> int:
    """Failures count for two pauses at most; a day's are kept, older ones need not be."""
    before = now - max(KEPT, 2 * _pause(session))
    result = session.execute(delete(FailedBinding).where(FailedBinding.failed_at < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]

"""State machines that refuse illegal moves and write every legal one to the audit trail."""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from sqlalchemy.orm import Session

from storage.audit import service as audit
from storage.errors import IllegalTransition
from storage.i18n import Msg
from storage.people.models import Person

S = TypeVar("S", bound=enum.StrEnum)
log = logging.getLogger(__name__)


class Stateful(Protocol):
    audit_type: ClassVar[str]
    id: int
    status: Any


class StateMachine(Generic[S]):
    def __init__(
        self,
        name: str,
        moves: Mapping[S, frozenset[S]],
        labels: Mapping[S, str],
        *,
        entries: frozenset[S],
    ) -> None:
        self.name = name
        self.moves = moves
        self.labels = labels
        self.entries = entries  # the states a new object may begin in

    def allows(self, current: S, target: S) -> bool:
        return target in self.moves.get(current, frozenset())

    def check(self, current: S, target: S) -> None:
        if not self.allows(current, target):
            raise IllegalTransition(
                "{what}当前状态为「{current}」，不能改为「{target}」",
                what=Msg(self.name),
                current=Msg(self.labels[current]),
                target=Msg(self.labels[target]),
            )

    def start(
        self,
        *,
        session: Session,
        obj: Stateful,
        state: S,
        actor: Person | None,
        note: str | None = None,
    ) -> None:
        """A new object enters the machine: stored in ``state``, the first line of its trail."""
        if state not in self.entries:
            raise ValueError(f"a {obj.audit_type} cannot begin as {state.value}")
        obj.status = state
        audit.record_new(session=session, obj=obj, state=state.value, actor=actor, note=note)
        _log(obj, None, state, actor)

    def move(
        self,
        *,
        session: Session,
        obj: Stateful,
        target: S,
        actor: Person | None,
        note: str | None = None,
    ) -> None:
        current: S = obj.status
        self.check(current, target)
        obj.status = target
        _log(obj, current, target, actor)
        audit.record(
            session=session,
            obj=obj,
            from_state=current.value,
            to_state=target.value,
            actor=actor,
            note=note,
        )

    def keep(self, *, session: Session, obj: Stateful, actor: Person | None, note: str) -> None:
        """A change that is no move (a new holder, a new deadline), kept in the trail at the
        state the object is in (001 4.9.4: the record keeps the process)."""
        state = obj.status.value
        audit.record(
            session=session, obj=obj, from_state=state, to_state=state, actor=actor, note=note
        )


def _log(
    obj: Stateful, current: enum.StrEnum | None, target: enum.StrEnum, actor: Person | None
) -> None:
    """One line per state change, with the object's id (a server's logs are JSON)."""
    before = current.value if current is not None else None
    log.info(
        "%s %s: %s → %s",
        obj.audit_type,
        obj.id,
        before,
        target.value,
        extra={
            "object": obj.audit_type,
            "object_id": obj.id,
            "from_state": before,
            "to_state": target.value,
            "actor_id": actor.id if actor else None,
        },
    )

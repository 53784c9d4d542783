"""A test bot: say a line as someone, read the answer, press a button by its label."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
import time_machine
import yaml
from sqlalchemy import select

from conversations.engine import Engine
from conversations.flows import FLOWS
from conversations.messages import Button, Incoming, Location, Reply
from storage.database import Database
from storage.estate import importer
from storage.identity import service as identity
from storage.patrol.models import PatrolFinding
from storage.people.models import Person, StaffMember
from storage.ticket.models import Ticket
from tests.conftest import SAMPLE

_ids = itertools.count(1)


@dataclass
class Chatter:
    engine: Engine
    user: str
    platform: str = "telegram"
    language: str | None = None
    chat_id: str | None = None  # a group chat; a private chat's id is the user's
    replies: list[Reply] = field(default_factory=list)
    # Buttons stay on screen until newer ones come, as in a real chat.
    shown: list[Button] = field(default_factory=list)

    def send(self, **fields: object) -> str:
        message = Incoming(
            platform=self.platform,
            chat_id=self.chat_id or self.user,
            user_id=self.user,
            message_id=str(fields.pop("message_id", next(_ids))),
            language=self.language,
            **fields,  # type: ignore[arg-type]
        )
        answer = self.engine.handle(message)
        self.replies = list(answer.replies)
        self.engine.settle(answer, sent=len(self.replies))  # read: delivered
        buttons = [button for reply in self.replies for button in reply.buttons]
        if buttons:
            self.shown = buttons
        return self.text

    def say(self, text: str) -> str:
        return self.send(text=text)

    def press(self, label: str) -> str:
        for button in self.shown:
            if button.label == label or button.label.startswith(label):
                return self.send(button=button.key)
        raise AssertionError(f"no button {label!r} in {[b.label for b in self.shown]}")

    def photo(self, *refs: str, text: str = "") -> str:
        return self.send(photos=refs, text=text)

    def location(self, latitude: float, longitude: float) -> str:
        return self.send(location=Location(latitude, longitude))

    @property
    def text(self) -> str:
        return "\n".join(reply.text for reply in self.replies)

    @property
    def buttons(self) -> list[str]:
        return [button.label for reply in self.replies for button in reply.buttons]


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    from tests.conftest import local

    with time_machine.travel(local(2026, 11, 23, 9, 0), tick=False) as traveller:
        yield traveller


@pytest.fixture
def estate(db: Database, clock: time_machine.Traveller) -> Database:
    """The sample estate, committed, as a chat user would find it."""
    with db.transaction() as session:
        importer.import_estate(session=session, data=yaml.safe_load(SAMPLE.read_text("utf-8")))
    return db


@pytest.fixture
def engine(estate: Database) -> Engine:
    return Engine(estate, FLOWS)


@pytest.fixture
def chat(engine: Engine, estate: Database) -> Callable[..., Chatter]:
    """``chat("张伟")`` is the sample person already bound; ``chat(user="x")`` is a stranger."""

    def make(name: str | None = None, *, user: str | None = None, **options: object) -> Chatter:
        user = user or f"user-{name or next(_ids)}"
        if name is not None:
            with estate.transaction() as session:
                person = session.query(Person).filter_by(name=name).one()
                post = session.query(StaffMember).filter_by(person_id=person.id).first()
                estate_id = post.estate_id if post else person.residencies[0].unit.estate_id
                code = identity.create_invite(session=session, person=person, estate_id=estate_id)
                identity.redeem_invite(
                    session=session, code=code, platform="telegram", external_id=user
                )
        return Chatter(engine, user, **options)  # type: ignore[arg-type]

    return make


def tickets(db: Database) -> list[Ticket]:
    """Every ticket, in the order it was reported."""
    with db.transaction() as session:
        return list(session.scalars(select(Ticket).order_by(Ticket.id)))


def report_lawn(chat: Callable[..., Chatter]) -> Chatter:
    """陈静 reports 草坪枯黄 in 中心花园 for 绿化部, up to the question of its deadline."""
    patroller = chat("陈静")
    patroller.say("巡查")
    patroller.say("中心花园")
    patroller.press("园林绿化")
    patroller.say("草坪枯黄")
    patroller.press("跳过")
    patroller.press("否")
    patroller.press("绿化部")
    return patroller


def report_leak(chat: Callable[..., Chatter]) -> Chatter:
    """张伟 reports a leak in 1-1-502 (BX000001), with no photo and no time."""
    owner = chat("张伟")
    owner.say("报修")
    owner.press("房屋渗漏水")
    owner.press("1-1-502")
    owner.say("卫生间天花板渗水")
    owner.press("跳过")
    owner.press("跳过")
    owner.press("确认提交")
    return owner


def leak_opened_by_zhou(chat: Callable[..., Chatter]) -> Chatter:
    """The leak (BX000001) dispatched to 周师傅 by 陈静, and open on his screen."""
    report_leak(chat)
    desk = chat("陈静")
    desk.say("派单")
    desk.press("BX000001")
    desk.press("周师傅")
    tech = chat("周师傅")
    tech.say("维修工单")
    tech.press("BX000001")
    return tech


def ticket(db: Database, ticket_id: int = 1) -> Ticket:
    with db.transaction() as session:
        found = session.get(Ticket, ticket_id)
        assert found is not None
        return found


def findings(db: Database) -> list[PatrolFinding]:
    with db.transaction() as session:
        return list(session.scalars(select(PatrolFinding).order_by(PatrolFinding.id)))

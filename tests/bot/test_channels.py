"""One Channel interface: a platform wuye has never heard of (here "dingtalk") is served by
the web app, answered by the engine and reached by the dispatcher once it implements the
interface; no other part of wuye names it."""

from __future__ import annotations

import asyncio
from typing import ClassVar

import httpx
import pytest
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.channel import Refused
from bot.channels import REGISTRY
from bot.web import Wuye, create_app
from conversations.engine import Engine
from conversations.flows import FLOWS
from conversations.messages import Incoming, Reply
from storage.config import Settings
from storage.database import Database
from storage.estate import importer
from storage.identity import service as identity
from storage.outbox import service as outbox
from storage.outbox.models import OutboxMessage, OutboxStatus
from storage.people.models import Person
from tests.conftest import answer_notice
from tests.servers import serving


class Dingtalk:
    """A whole platform in a few lines: a webhook that takes JSON, and a send that keeps
    what it was given (or refuses a chat)."""

    platform: ClassVar[str] = "dingtalk"
    preferred: ClassVar[bool] = False

    def __init__(self, engine: Engine, *, refused: frozenset[str] = frozenset()) -> None:
        self.engine = engine
        self.refused = refused
        self.sent: list[tuple[str, str]] = []
        self.started = self.stopped = False

    def routes(self) -> list[BaseRoute]:
        return [Route("/dingtalk", self.webhook, methods=["POST"])]

    async def webhook(self, request: Request) -> Response:
        body = await request.json()
        incoming = Incoming(
            platform=self.platform,
            chat_id=body["user"],
            user_id=body["user"],
            message_id=body["id"],
            text=body["text"],
        )
        answer = await asyncio.to_thread(self.engine.handle, incoming)
        await asyncio.to_thread(self.engine.settle, answer, sent=len(answer.replies))
        return JSONResponse([reply.text for reply in answer.replies])

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    async def send(self, chat_id: str, reply: Reply) -> None:
        if chat_id in self.refused:
            raise Refused("the user left the organisation")
        self.sent.append((chat_id, reply.text))


class Company(Dingtalk):
    """A company app of the same kind, where staff are reached first."""

    platform: ClassVar[str] = "company"
    preferred: ClassVar[bool] = True


@pytest.fixture
def estate(db: Database, sample_data: object) -> Database:
    db.upgrade()
    with db.transaction() as session:
        importer.import_estate(session=session, data=sample_data)
    return db


def test_a_new_platform_is_served_answered_and_reached(
    settings: Settings, estate: Database
) -> None:
    engine = Engine(estate, FLOWS)
    dingtalk = Dingtalk(engine)
    wuye = Wuye(settings=settings, db=estate, engine=engine, channels=[dingtalk])
    with serving(create_app(wuye, dispatch=False)) as url:
        answer = httpx.post(f"{url}/dingtalk", json={"user": "d-1", "id": "1", "text": "你好"})
        assert any("请先绑定身份" in text for text in answer.json())
        assert dingtalk.started
    assert dingtalk.stopped
    with estate.transaction() as session:
        owner = session.scalars(select(Person).where(Person.name == "张伟")).one()
        identity.link_account(session=session, person=owner, platform="dingtalk", external_id="d-1")
        outbox.notify(session=session, recipient=owner, notice=answer_notice())
    assert asyncio.run(wuye.dispatcher.run_once()) == 1
    assert dingtalk.sent == [("d-1", "您的投诉 TS000001 答复如下：\n已处理")]


def test_a_preferred_channel_is_tried_first_and_a_refusal_on_every_one_is_final(
    settings: Settings, estate: Database
) -> None:
    engine = Engine(estate, FLOWS)
    dingtalk, company = Dingtalk(engine), Company(engine, refused=frozenset({"zhou"}))
    wuye = Wuye(settings=settings, db=estate, engine=engine, channels=[dingtalk, company])
    with estate.transaction() as session:
        tech = session.scalars(select(Person).where(Person.name == "周师傅")).one()
        manager = session.scalars(select(Person).where(Person.name == "黄经理")).one()
        for person, company_id in ((tech, "zhou"), (manager, "huang")):
            identity.link_account(
                session=session, person=person, platform="dingtalk", external_id=f"d-{company_id}"
            )
            identity.link_account(
                session=session, person=person, platform="company", external_id=company_id
            )
            outbox.notify(session=session, recipient=person, notice=answer_notice())
    assert asyncio.run(wuye.dispatcher.run_once()) == 2
    assert company.sent == [("huang", "您的投诉 TS000001 答复如下：\n已处理")]
    assert dingtalk.sent == [("d-zhou", "您的投诉 TS000001 答复如下：\n已处理")]  # refused there
    with estate.transaction() as session:
        assert set(session.scalars(select(OutboxMessage.status))) == {OutboxStatus.SENT}


def test_the_registry_names_each_platform_once_and_healthz_lists_them(
    settings: Settings, estate: Database
) -> None:
    names = [kind.platform for kind in REGISTRY]
    assert len(set(names)) == len(names)
    wuye = Wuye.from_settings(settings)  # no platform's settings given: none is served
    assert wuye.channels == []
    with serving(create_app(wuye, dispatch=False)) as url:
        assert httpx.get(f"{url}/healthz").json() == {"ok": True} | dict.fromkeys(names, False)
    wuye.db.dispose()

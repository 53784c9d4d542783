"""绑定 and 绑定审核: a stranger proves who they are; the desk approves."""

from __future__ import annotations

from collections.abc import Callable

import time_machine
from sqlalchemy import func, select

from conversations.engine import Engine
from conversations.flows import FLOWS
from storage.config import load_settings
from storage.database import Database
from storage.estate import importer
from storage.identity import service as identity
from storage.identity.models import BindingRequest
from storage.outbox.models import OutboxMessage
from storage.people.models import Person
from tests.conversations.conftest import Chatter


def test_a_new_owner_binds_with_unit_and_phone(chat: Callable[..., Chatter]) -> None:
    owner = chat(user="tg-1001")
    assert "请先绑定身份" in owner.say("你好")
    owner.press("房号 + 预留手机号")
    assert "请输入您在物业登记的手机号" in owner.say("1栋1单元502")
    reply = owner.say("13800138001")
    assert "绑定成功，张伟" in reply
    assert "报修" in owner.buttons
    assert "巡查" not in owner.buttons


def test_start_or_help_from_a_stranger_begins_binding(chat: Callable[..., Chatter]) -> None:
    for first in ("/start", "帮助"):
        assert "请先绑定身份" in chat(user=f"tg-{first}").say(first)


def test_a_wrong_phone_is_refused_and_asked_again(chat: Callable[..., Chatter]) -> None:
    owner = chat(user="tg-1002")
    owner.say("你好")
    owner.press("房号 + 预留手机号")
    owner.say("1-1-502")
    reply = owner.say("13900000000")
    assert "房号与预留手机号不符" in reply
    assert "请输入您在物业登记的手机号" in reply


def test_with_approval_required_the_desk_approves_the_binding(
    db_url: str, clock: time_machine.Traveller, sample_data: object
) -> None:
    db = Database(load_settings(database_url=db_url, bind_requires_approval=True))
    with db.transaction() as session:
        importer.import_estate(session=session, data=sample_data)
    engine = Engine(db, FLOWS)
    owner = Chatter(engine, "tg-2001")
    owner.say("你好")
    owner.press("房号 + 预留手机号")
    owner.say("1-1-502")
    assert "已提交绑定申请" in owner.say("13800138001")
    assert "请先绑定身份" in owner.say("报修")  # still nobody until the desk decides

    with db.transaction() as session:
        desk = session.scalars(select(Person).where(Person.name == "陈静")).one()
        code = identity.create_invite(session=session, person=desk, estate_id=1)
        identity.redeem_invite(session=session, code=code, platform="telegram", external_id="desk")
    clerk = Chatter(engine, "desk")
    clerk.say("绑定审核")
    clerk.press("张伟")
    assert "已处理 张伟 的绑定申请" in clerk.press("是")
    with db.transaction() as session:
        assert session.scalar(select(func.count(BindingRequest.id))) == 1
        approved = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "binding_approved")
        ).one()
        assert approved.recipient is not None
        assert approved.recipient.name == "张伟"
    owner.say("帮助")
    assert "报修" in owner.buttons
    db.dispose()


def test_a_wrong_binding_code_is_refused_and_asked_again(chat: Callable[..., Chatter]) -> None:
    stranger = chat(user="tg-9")
    stranger.say("你好")
    stranger.press("使用绑定码")
    reply = stranger.say("WRONGCODE")
    assert "绑定码无效或已过期" in reply
    assert "请输入绑定码" in reply

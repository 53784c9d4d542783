"""The engine's promises: state survives a restart, idle conversations expire, a replayed
message is answered once, a crash loses nothing, and each person reads their language."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from conversations.engine import Engine
from conversations.flows import FLOWS
from conversations.messages import Incoming
from conversations.steps import AskText, Context, Flow, Next, go, then
from storage.callback.models import Callback
from storage.chat.models import Conversation, SeenMessage
from storage.database import Database
from storage.i18n import N_
from storage.outbox.models import OutboxMessage
from storage.ticket import lifecycle, repairs
from storage.ticket.models import Ticket
from tests.conftest import ON_POSTGRESQL_ONLY, server_drops_connection
from tests.conversations.conftest import Chatter


def test_a_conversation_continues_after_a_restart(
    chat: Callable[..., Chatter], estate: Database
) -> None:
    owner = chat("张伟")
    owner.say("报修")
    owner.press("电梯")
    # The process restarts: a new engine on a new connection pool, nothing kept in memory.
    estate.dispose()
    reborn = Database(estate.settings)
    owner.engine = Engine(reborn, FLOWS)
    assert "问题在哪里" in owner.say("帮助")  # help shows, and the step is asked again
    owner.press("1-1-502")
    owner.say("电梯按钮失灵")
    owner.press("跳过")
    owner.press("跳过")
    assert "报修成功" in owner.press("确认提交")
    reborn.dispose()


def test_an_idle_conversation_expires_after_30_minutes_with_a_message(
    chat: Callable[..., Chatter], clock: time_machine.Traveller
) -> None:
    owner = chat("张伟")
    owner.say("报修")
    owner.press("电梯")
    clock.shift(timedelta(minutes=29))
    assert "问题在哪里" not in owner.press("1-1-502")  # still alive: the next question
    clock.shift(timedelta(minutes=31))
    reply = owner.say("电梯按钮失灵")
    assert "您上次的「报修」超过 30 分钟没有回复，已自动取消" in reply


def test_a_replayed_message_is_answered_once(
    chat: Callable[..., Chatter], estate: Database
) -> None:
    owner = chat("张伟")
    owner.say("报修")
    owner.press("电梯")
    owner.press("1-1-502")
    owner.say("电梯异响")
    owner.press("跳过")
    owner.press("跳过")
    confirm = next(b.key for b in owner.shown if b.label == "确认提交")
    assert "报修成功" in owner.send(button=confirm, message_id="wx-777")
    assert owner.send(button=confirm, message_id="wx-777") == ""  # the platform's retry
    with estate.transaction() as session:
        assert session.scalar(select(func.count(Ticket.id))) == 1


@then()
def _explode(ctx: Context, text: str) -> Next:
    ctx.data["half"] = text
    raise RuntimeError("the worker died mid-step")


CRASHING = Flow(
    key="crash",
    title=N_("报修"),
    allowed=lambda ctx: True,
    start=go("ask"),
    steps=[AskText("ask", N_("请描述问题："), _explode)],
)


def test_a_crash_mid_step_is_rolled_back_and_the_message_left_to_be_taken_again(
    chat: Callable[..., Chatter], estate: Database
) -> None:
    owner = chat("张伟")
    owner.engine = Engine(estate, (*FLOWS, CRASHING))
    owner.say("/crash")
    with pytest.raises(RuntimeError):  # the channel's inbox keeps it (tests/bot/test_inbox.py)
        owner.say("会崩溃的一句话")
    with estate.transaction() as session:
        [conversation] = session.scalars(
            select(Conversation).where(Conversation.user_id == owner.user)
        ).all()
        # Still waiting at the same question, with nothing of the failed answer kept.
        assert (conversation.flow, conversation.step) == ("crash", "ask")
        assert "half" not in conversation.data
        # The message was not marked as handled, and no reply of it is waiting to be sent.
        assert session.scalar(select(func.count(SeenMessage.id))) == 1
        assert session.scalar(select(func.count(OutboxMessage.id))) == 1  # /crash's question


@ON_POSTGRESQL_ONLY
def test_a_message_whose_database_connection_was_lost_is_taken_again_and_answered_once(
    chat: Callable[..., Chatter], estate: Database, caplog: pytest.LogCaptureFixture
) -> None:
    owner = chat("张伟")
    owner.say("报修")
    owner.press("电梯")
    server_drops_connection(estate)  # a restart or a failover, between two messages
    assert "请描述问题" in owner.press("1-1-502")
    assert "taken again: its database connection was lost" in caplog.text
    with estate.transaction() as session:
        conversation = session.scalars(
            select(Conversation).where(Conversation.user_id == owner.user)
        ).one()
        assert conversation.step == "description"


def test_each_person_reads_their_own_language(chat: Callable[..., Chatter]) -> None:
    stranger = chat(user="tg-en", language="en-GB")
    assert "please bind your account" in stranger.say("hello")
    hant = chat(user="tg-hk", language="zh-HK")
    assert "請先綁定身份" in hant.say("你好")
    owner = chat("张伟")
    owner.say("语言")
    assert "Language switched to English" in owner.press("English")
    owner.say("repair")  # the English word starts the flow, like 报修
    assert "What needs repairing?" in owner.text
    assert "Water leak" in [b.label for b in owner.shown]
    assert "Please reply with a number from 1 to 14" in owner.say("99")
    owner.say("cancel")
    assert "Repair" in [b.label for b in owner.shown]


def test_a_conversation_at_a_step_a_new_version_no_longer_has_is_started_again(
    chat: Callable[..., Chatter], estate: Database
) -> None:
    owner = chat("张伟")
    owner.say("报修")
    owner.press("电梯")
    with estate.transaction() as session:  # as if the last version had a step "floor" here
        conversation = session.scalars(
            select(Conversation).where(Conversation.user_id == owner.user)
        ).one()
        conversation.step = "floor"
    assert "「报修」已更新，请重新开始。" in owner.say("3楼")
    assert "报修" in owner.buttons  # the menu, to start again from
    assert "请选择报修类别" in owner.press("报修")


def test_two_staff_recording_the_same_callback_at_once_one_wins_the_other_is_told(
    chat: Callable[..., Chatter], estate: Database, caplog: pytest.LogCaptureFixture
) -> None:
    from storage.people.models import Person

    caplog.set_level(logging.INFO, logger="conversations.engine")
    owner = chat("张伟")
    owner.say("报修")
    owner.press("电梯")
    owner.press("1-1-502")
    owner.say("电梯异响")
    owner.press("跳过")
    owner.press("跳过")
    owner.press("确认提交")
    with estate.transaction() as session:
        desk = session.scalars(select(Person).where(Person.name == "陈静")).one()
        tech = session.scalars(select(Person).where(Person.name == "周师傅")).one()
        repairs.dispatch_repair(session=session, ticket_id=1, actor=desk)
        lifecycle.accept(session=session, ticket_id=1, actor=tech)
        repairs.finish_repair(session=session, ticket_id=1, actor=tech, note="已修复")
    first, second = chat("陈静"), chat("刘洋")
    for clerk in (first, second):
        clerk.say("回访")
        clerk.press("BX000001")
        clerk.press("电话回访")
        clerk.press("满意")
        clerk.press("跳过")
    barrier = threading.Barrier(2)
    answers: dict[str, str] = {}

    def finish(clerk: Chatter) -> None:
        barrier.wait()
        answers[clerk.user] = clerk.press("已解决")

    threads = [threading.Thread(target=finish, args=(c,)) for c in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    outcomes = sorted(answers.values())
    assert any("已记录回访结果" in a for a in outcomes)
    assert any("的回访已于" in a and "记录" in a for a in outcomes)
    # The refusal is in the log, with where in which flow it happened.
    assert "refused in callbacks/solved" in caplog.text
    with estate.transaction() as session:
        callback = session.scalars(select(Callback)).one()
        assert callback.done_at is not None


def test_a_redelivered_message_whose_replies_were_never_sent_gets_them_once(
    chat: Callable[..., Chatter], estate: Database, clock: time_machine.Traveller
) -> None:
    owner = chat("张伟")
    owner.say("报修")
    owner.press("电梯")
    owner.press("1-1-502")
    described = Incoming("telegram", owner.user, owner.user, "m-desc", text="电梯异响")
    first = owner.engine.handle(described)  # committed; then the server died before sending
    assert any("照片" in reply.text for reply in first.replies)
    # Within the lease the replies may still be on their way: the redelivery says nothing.
    assert owner.engine.handle(described).replies == ()
    clock.shift(timedelta(seconds=estate.settings.reply_lease_seconds + 1))
    again = owner.engine.handle(described)
    assert again.replies == first.replies  # the same question, with its buttons
    owner.engine.settle(again, sent=len(again.replies))
    assert owner.engine.handle(described).replies == ()  # confirmed: never a third time
    with estate.transaction() as session:
        [conversation] = session.scalars(
            select(Conversation).where(Conversation.user_id == owner.user)
        ).all()
        assert conversation.step == "photos"  # and the step was taken once

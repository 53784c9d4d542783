"""Every number of a rule that a person reads comes from its setting: with every rule set
to an unusual value, a day at the estate (chat replies and every notice queued) shows those
values and none of the seed's defaults."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select

from scheduler.clock import REGISTRY, run_job
from storage.config import Settings, load_settings
from storage.database import Database
from storage.outbox.models import OutboxMessage
from storage.people.models import Person
from storage.ticket import lifecycle, repairs
from tests.conftest import local
from tests.conversations.conftest import Chatter

UNUSUAL = {
    "callback_days_safety": 4,
    "callback_days_leak": 5,
    "callback_days_other": 11,
    "callback_days_complaint": 9,
    "rework_hours": 19,
    "patrol_fix_days": 13,
    "complaint_handle_hours": 17,
    "complaint_reply_hours": 61,
    "emergency_repair_hours": 16,
    "pareto_vital_percent": 70,
    "patrol_verify_days": 4,
    "conversation_idle_minutes": 37,
}
# The seed's numbers, with the units they would be read in.
DEFAULTS = re.compile(
    r"(?<![\d{.:-])(24|72|7|2|3|30|80)\s*(小时|天|分钟|%|hours?|days?|minutes?)", re.IGNORECASE
)


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return load_settings(
        database_url=db_url,
        attachments_dir=tmp_path / "attachments",
        **UNUSUAL,
    )


def report(owner: Chatter, category: str, what: str) -> str:
    owner.say("报修")
    owner.press(category)
    owner.press("1-1-502")
    owner.say(what)
    owner.press("跳过")
    owner.press("跳过")
    return owner.press("确认提交")


def test_a_day_with_unusual_rules_reads_only_their_numbers(
    chat: Callable[..., Chatter], estate: Database, clock: time_machine.Traveller
) -> None:
    read: list[str] = []
    owner, desk = chat("张伟"), chat("陈静")

    reported = report(owner, "水管/下水", "厨房下水道堵塞")
    assert "紧急维修 16 小时受理" in reported
    assert "完工后 11 天内我们会回访" in reported
    read.append(reported)

    owner.say("投诉")
    owner.say("夜间装修噪音")
    owner.say("楼上每天晚上十点后还在装修")
    owner.press("跳过")
    owner.press("由客服中心处理")
    complained = owner.press("确认提交")
    assert "我们会在 17 小时内处理" in complained
    read.append(complained)

    desk.say("巡查")
    desk.say("2栋大堂")
    desk.press("公共设施设备")
    desk.say("灯不亮")
    desk.press("跳过")
    desk.press("否")
    asked = desk.press("工程部")
    assert "默认 13 天，最长 13 天" in asked
    assert desk.buttons == ["1天后", "3天后", "13天后"]  # the last day allowed, not 7
    too_long = desk.say("20")
    assert "整改期限最长 13 天" in too_long  # and asked again
    read += [asked, too_long, desk.say("13"), desk.press("确认提交")]

    with estate.transaction() as session:
        clerk = session.scalars(select(Person).where(Person.name == "陈静")).one()
        tech = session.scalars(select(Person).where(Person.name == "周师傅")).one()
        repairs.dispatch_repair(session=session, ticket_id=1, actor=clerk, assignee_id=None)
        lifecycle.accept(session=session, ticket_id=1, actor=tech)
        repairs.finish_repair(session=session, ticket_id=1, actor=tech, note="已疏通")
    clock.shift(timedelta(hours=18))  # the complaint is past its 17 hours
    for job in REGISTRY:
        run_job(estate, job)
    read.append(desk.say("逾期事项"))
    assert "超 17 小时未受理的投诉" in read[-1]

    owner.say("回访评价")
    owner.press("不满意")
    reworked = owner.say("还是堵")
    assert "19 小时内处理" in reworked
    read.append(reworked)

    owner.say("报修")
    clock.shift(timedelta(minutes=38))
    expired = owner.say("电梯")
    assert "超过 37 分钟没有回复" in expired
    read.append(expired)

    clock.move_to(local(2026, 12, 1, 10, 0))  # the month's report, with its vital few
    for job in REGISTRY:
        run_job(estate, job)
    with estate.transaction() as session:
        read += session.scalars(select(OutboxMessage.text)).all()
    kinds = "\n".join(read)
    assert "【投诉超 17 小时未受理】" in kinds
    assert "（占 70%）" in kinds
    assert not [m.group(0) for text in read for m in DEFAULTS.finditer(text)]

"""Callbacks that reach people (003 篇十二 三(四)2: "within" 2/3/7 days): the owner is asked
the day after the work and reminded once; on the last day the desk phones those who did
not answer; a call nobody answers is tried again the next working day."""

from __future__ import annotations

from datetime import date
from typing import Any

import time_machine

from scheduler import jobs
from storage.callback import service as callbacks
from storage.callback.models import CallbackChannel, Satisfaction
from storage.estate import importer
from storage.outbox import service as outbox
from storage.ticket.models import RepairCategory, TicketStatus
from tests.conftest import SampleEstate, local


def kinds_sent_to(cuihu: SampleEstate, name: str) -> list[str]:
    person = cuihu.person(name)
    return [m.kind for m in outbox.for_recipient(session=cuihu.session, recipient_id=person.id)]


def tick(cuihu: SampleEstate, at: time_machine.Traveller, *moment: int) -> None:
    at.move_to(local(*moment))
    jobs.due_callbacks(cuihu.session, local(*moment))
    jobs.overdue_callbacks(cuihu.session, local(*moment))


def test_a_leak_done_on_wednesday_is_asked_on_thursday_and_phoned_on_saturday(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    leak = cuihu.repair_done(at, RepairCategory.WATER_LEAK, local(2026, 12, 2, 15, 0))
    callback = cuihu.callback(leak)
    assert callback.due_at == local(2026, 12, 6, 0, 0)  # within 3 days: by Saturday's end
    owner_before = kinds_sent_to(cuihu, "张伟")
    tick(cuihu, at, 2026, 12, 2, 20, 0)
    tick(cuihu, at, 2026, 12, 3, 7, 59)  # quiet hours: nobody is woken
    assert kinds_sent_to(cuihu, "张伟") == owner_before
    tick(cuihu, at, 2026, 12, 3, 8, 0)
    tick(cuihu, at, 2026, 12, 3, 8, 1)
    asked = kinds_sent_to(cuihu, "张伟")[len(owner_before) :]
    assert asked == ["callback_due"]
    [question] = [
        m
        for m in outbox.for_recipient(session=cuihu.session, recipient_id=cuihu.person("张伟").id)
        if m.kind == "callback_due"
    ]
    assert question.buttons == [
        [f"/callback {callback.id} satisfied", "满意"],
        [f"/callback {callback.id} fairly_satisfied", "较满意"],
        [f"/callback {callback.id} unsatisfied", "不满意"],
    ]
    # Friday: reminded once; the desk is not told yet.
    tick(cuihu, at, 2026, 12, 4, 9, 0)
    tick(cuihu, at, 2026, 12, 4, 15, 0)
    assert kinds_sent_to(cuihu, "张伟").count("callback_owner_reminder") == 1
    assert "callback_reminder" not in kinds_sent_to(cuihu, "陈静")
    # Saturday 5 December, the last day: the desk is told to phone.
    tick(cuihu, at, 2026, 12, 5, 9, 0)
    assert kinds_sent_to(cuihu, "陈静").count("callback_reminder") == 1
    assert kinds_sent_to(cuihu, "刘洋").count("callback_reminder") == 1

    # 未接通 twice, tried again each next working day, then satisfied.
    callbacks.no_answer(session=cuihu.session, callback_id=callback.id, actor=cuihu.person("陈静"))
    assert callback.attempts == 1
    assert callback.call_again_at == local(2026, 12, 7, 0, 0)  # Monday: the next working day
    tick(cuihu, at, 2026, 12, 6, 10, 0)
    assert "callback_call_again" not in kinds_sent_to(cuihu, "陈静")
    tick(cuihu, at, 2026, 12, 7, 9, 0)
    assert kinds_sent_to(cuihu, "陈静").count("callback_call_again") == 1
    # Late now, and the supervisor's notice says by how much.
    overdue = [
        m
        for m in outbox.for_recipient(session=cuihu.session, recipient_id=cuihu.person("孙丽").id)
        if m.kind == "callback_overdue"
    ]
    assert "已逾期 2 天" in overdue[-1].text
    callbacks.no_answer(session=cuihu.session, callback_id=callback.id, actor=cuihu.person("陈静"))
    assert callback.call_again_at == local(2026, 12, 8, 0, 0)
    cuihu.called_back(leak, Satisfaction.SATISFIED)
    assert callback.channel is CallbackChannel.PHONE
    assert leak.status is TicketStatus.CLOSED


def test_an_owner_nobody_reaches_is_recorded_as_unreachable(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    leak = cuihu.repair_done(at, RepairCategory.WATER_LEAK, local(2026, 12, 2, 15, 0))
    callback = cuihu.callback(leak)
    for _ in range(3):
        callbacks.no_answer(
            session=cuihu.session, callback_id=callback.id, actor=cuihu.person("陈静")
        )
    assert callback.unreachable
    assert callback.done_at is not None
    assert leak.status is TicketStatus.CLOSED


def test_a_callback_in_national_day_week_is_chased_only_on_working_days(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    """1 October 2026 is a public holiday: no overdue reminder; the make-up working day
    (Saturday 10 October) is a working day: one is sent."""
    cuihu.repair_done(at, RepairCategory.OTHER, local(2026, 9, 20, 10, 0))  # due 27 September
    at.move_to(local(2026, 10, 1, 10, 0))
    assert jobs.overdue_callbacks(cuihu.session, local(2026, 10, 1, 10, 0)) == 0
    assert jobs.overdue_callbacks(cuihu.session, local(2026, 10, 10, 10, 0)) >= 1


def test_the_briefing_says_none_rather_than_ending_on_a_colon(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    at.move_to(local(2026, 11, 24, 8, 30))
    jobs.morning_briefings(cuihu.session, local(2026, 11, 24, 8, 30))
    [briefing] = outbox.for_recipient(session=cuihu.session, recipient_id=cuihu.person("陈静").id)
    assert "今天没有到期的回访。" in briefing.text
    assert not briefing.text.rstrip().endswith("：")


def test_an_estates_own_calendar_corrects_chinas(
    cuihu: SampleEstate, at: time_machine.Traveller, sample_data: dict[str, Any]
) -> None:
    """The estate file closes Friday 27 November and works Saturday 28 November."""
    sample_data["estate"]["calendar"] = {"holidays": ["2026-11-27"], "workdays": ["2026-11-28"]}
    importer.import_estate(session=cuihu.session, data=sample_data)
    assert not cuihu.estate.is_working_day(date(2026, 11, 27))
    assert cuihu.estate.is_working_day(date(2026, 11, 28))
    cuihu.repair_done(at, RepairCategory.LIFT, local(2026, 11, 23, 15, 0))  # due Wednesday
    assert jobs.overdue_callbacks(cuihu.session, local(2026, 11, 26, 9, 0)) == 1  # Thursday
    assert jobs.overdue_callbacks(cuihu.session, local(2026, 11, 27, 9, 0)) == 0  # closed
    assert jobs.overdue_callbacks(cuihu.session, local(2026, 11, 28, 9, 0)) == 1  # worked

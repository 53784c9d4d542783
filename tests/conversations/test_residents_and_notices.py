"""Residents and notices in chat: a code binds in one step, someone not on the roster asks
to be added and the desk approves, the desk keeps the roster current, a water cut for a
building is approved, reaches that building's residents and is received, an outage is
told to an owner before a matching repair, and the owners' survey is answered."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
import time_machine
from sqlalchemy import select

from conversations.summaries import reader_digest_text
from scheduler import jobs
from storage.announcement import service as announcements
from storage.announcement.models import Announcement, AnnouncementKind, AnnouncementStatus
from storage.audit import service as audit
from storage.database import Database
from storage.errors import IllegalTransition
from storage.estate.models import Estate
from storage.figures.daily import reader_digest
from storage.i18n import translator
from storage.identity import service as identity
from storage.outbox.models import OutboxMessage
from storage.people.models import Person
from storage.survey import service as surveys
from storage.survey.models import SurveyInvitation
from tests.conftest import local
from tests.conversations.conftest import Chatter, tickets


def notices(db: Database, kind: str) -> list[OutboxMessage]:
    with db.session() as s:
        rows = s.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
        )
        return list(rows)


def names(messages: list[OutboxMessage]) -> list[str]:
    return sorted(m.recipient.name for m in messages if m.recipient is not None)


def first_button(message: OutboxMessage) -> str:
    """The key of a notice's first button: what pressing it sends."""
    assert message.buttons
    return message.buttons[0][0]


def invite(db: Database, name: str) -> str:
    with db.transaction() as session:
        person = session.scalars(select(Person).where(Person.name == name)).one()
        return identity.create_invite(session=session, person=person, estate_id=1)


# ------------------------------------------------------------------ binding in one step


def test_a_code_in_a_deep_link_binds_at_once_even_in_the_middle_of_binding(
    chat: Callable[..., Chatter], estate: Database
) -> None:
    owner = chat(user="tg-start")
    assert "绑定成功，张伟" in owner.say(f"/start {invite(estate, '张伟')}")
    assert "报修" in owner.buttons

    tenant = chat(user="tg-midway")
    tenant.say("你好")
    tenant.press("房号 + 预留手机号")  # then scans the poster's code instead
    assert "绑定成功，赵敏" in tenant.say(f"/start {invite(estate, '赵敏')}")
    # Scanning the poster again once bound is the menu, not a refusal.
    assert "绑定码无效" not in tenant.say("/start ZZZZZZZZ")
    assert "报修" in tenant.buttons


def test_someone_not_on_the_roster_asks_to_be_added_and_the_desk_approves(
    chat: Callable[..., Chatter], estate: Database
) -> None:
    newcomer = chat(user="tg-new")
    newcomer.say("你好")
    newcomer.press("物业还没有登记我")
    newcomer.say("3-1-1203")
    newcomer.say("钱多多")
    newcomer.press("租户")
    assert "已提交住户登记申请" in newcomer.say("137 0000 0001")
    assert "正在审核中" in newcomer.say("报修")  # told it waits, not asked to bind again

    asked, _ = notices(estate, "join_requested")  # the desk: 陈静 and 刘洋
    assert "钱多多（13700000001）申请登记为 3-1-1203 的租户" in asked.text
    assert asked.buttons == [["/bindings", "绑定审核"]]
    desk = chat("陈静")
    desk.send(button="/bindings")
    desk.press("钱多多 3-1-1203 租户（新登记）")
    assert "已同意 钱多多 的绑定申请" in desk.press("是")

    newcomer.say("帮助")
    assert "报修" in newcomer.buttons
    with estate.session() as s:
        tenant = s.scalars(select(Person).where(Person.name == "钱多多")).one()
        assert [r.unit.designation for r in tenant.residencies] == ["3-1-1203"]
        trail = audit.history(session=s, object_type="person", object_id=tenant.id)
        assert [(e.to_state, e.actor_label) for e in trail] == [("moved_in", "陈静")]


def test_the_desk_adds_a_resident_and_changes_a_phone_in_chat(
    chat: Callable[..., Chatter], estate: Database
) -> None:
    desk = chat("陈静")
    desk.say("住户登记")
    assert "3-1-1203（已入住）现登记的住户" in desk.say("3-1-1203")
    assert desk.buttons == ["新增住户", "房屋状态"]
    desk.press("新增住户")
    desk.say("钱多多")
    desk.press("租户")
    assert "手机号「123」不是有效的手机号码" in desk.say("123")  # asked again, nothing lost
    assert "已登记 钱多多 为 3-1-1203 的租户" in desk.say("13700000001")

    desk.say("信息变更")
    desk.say("3-1-1203")
    desk.press("变更手机号")
    desk.press("钱多多")
    assert "已更新 钱多多 的手机号为 137****0002" in desk.say("13700000002")
    # The new phone binds: unit and phone, as the roster now has them.
    tenant = chat(user="tg-qian")
    tenant.say("你好")
    tenant.press("房号 + 预留手机号")
    tenant.say("3-1-1203")
    assert "绑定成功，钱多多" in tenant.say("13700000002")


# ------------------------------------------------------------------ 通知公告


def test_a_water_cut_for_building_3_is_approved_reaches_building_3_and_is_received(
    chat: Callable[..., Chatter], estate: Database
) -> None:
    li, zhao, zhang = chat("李强"), chat("赵敏"), chat("张伟")  # 3-1-1204, 3-1-801, 1-1-502
    desk = chat("陈静")
    desk.say("发布通知")
    desk.press("停水")
    assert "预计恢复时间" in desk.text
    assert "时间格式不对" in desk.say("晚上")  # asked again
    desk.say("18:00")
    desk.press("指定楼栋、单元或房号")
    assert "本小区没有楼栋「9」" in desk.say("9")  # asked again
    desk.say("3")
    desk.say("3栋停水通知")
    desk.say("因管网维修，今天 10:00-18:00 停水，请提前储水。")
    desk.press("立即发送")
    preview = desk.press("否，普通通知")
    assert "发给：3栋" in preview
    assert "将发给 2 位已绑定的住户；另有 0 位住户未绑定" in preview
    assert "提交后由主管审批" in preview
    assert "GG00001 已提交，等待主管审批" in desk.press("确认提交")
    assert notices(estate, "announcement") == []  # nothing before the approval

    asked = notices(estate, "announcement_approval")
    assert set(names(asked)) == {"孙丽", "黄经理"}  # the desk's supervisor and the PM
    head = chat("孙丽")
    head.send(button=first_button(asked[0]))
    assert "3栋停水通知" in head.text
    assert "批准发送吗" in head.text
    assert "已发出：2 位住户将收到" in head.press("批准发送")

    sent = notices(estate, "announcement")
    assert names(sent) == ["李强", "赵敏"]  # building 3 once each, nobody else
    assert "【停水通知】3栋停水通知" in sent[0].text
    assert "预计恢复时间：2026-11-23 18:00" in sent[0].text
    assert names(notices(estate, "announcement_approved")) == ["陈静"]

    [to_li] = [m for m in sent if m.recipient is not None and m.recipient.name == "李强"]
    assert to_li.buttons is not None
    li.send(button=to_li.buttons[0][0])
    assert "已确认收到「3栋停水通知」" in li.text
    assert "没有需要确认的通知" in zhang.say("收到")  # not his
    assert "已确认收到" in zhao.say("收到")  # typed: the latest one
    desk.say("通知记录")
    record = desk.press("GG00001")
    assert "送达 0，发送中 2，失败 0，未绑定 0；已点「收到」2" in record
    assert desk.buttons == ["已恢复，通知住户", "返回"]


def test_a_notice_sent_back_tells_the_writer_why_and_sends_nothing(
    chat: Callable[..., Chatter], estate: Database
) -> None:
    chat("李强")
    desk = chat("陈静")
    desk.say("发布通知")
    desk.press("通知")
    desk.press("全小区住户")
    desk.say("物业费缴纳提醒")
    desk.say("请于月底前缴纳物业费。")
    desk.press("立即发送")
    desk.press("否，普通通知")
    desk.press("确认提交")
    manager = chat("黄经理")
    manager.say("通知审批")
    manager.press("GG00001")
    manager.press("退回修改")
    assert "已退回通知 GG00001" in manager.say("请写明缴费方式")
    [refused] = notices(estate, "announcement_refused")
    assert "被 黄经理 退回：请写明缴费方式" in refused.text
    assert notices(estate, "announcement") == []
    assert "通知审批" not in manager.say("帮助")  # nothing waits any more


def test_an_ordinary_notice_waits_for_the_morning_an_emergency_goes_at_night(
    chat: Callable[..., Chatter], estate: Database, clock: time_machine.Traveller
) -> None:
    chat("李强")
    clock.move_to(local(2026, 11, 23, 22, 30))
    head = chat("孙丽")  # a supervisor's own notice needs no one else's approval
    said = []
    for urgency, title in (("否，普通通知", "明早电梯保养"), ("是，紧急通知", "台风预警")):
        head.say("发布通知")
        head.press("通知")
        head.press("全小区住户")
        head.say(title)
        head.say("详见内容。")
        head.press("立即发送")
        preview = head.press(urgency)
        assert "提交后由主管审批" not in preview
        night = "现在是夜间：普通通知将于 2026-11-24 08:00 发送" in preview
        assert night is (title == "明早电梯保养")
        said.append(head.press("确认提交"))
    assert "GG00001 将于 2026-11-24 08:00 发送" in said[0]
    assert "GG00002 已发出：1 位住户将收到" in said[1]
    sent = notices(estate, "announcement")
    assert [m.text.split("\n")[0] for m in sent] == ["【紧急通知】台风预警"]
    clock.move_to(local(2026, 11, 24, 8, 0))
    with estate.transaction() as session:
        jobs.resident_notices(session, local(2026, 11, 24, 8, 0))
    assert [m.text.split("\n")[0] for m in notices(estate, "announcement")] == [
        "【紧急通知】台风预警",
        "【通知】明早电梯保养",
    ]


def water_cut(estate: Database, building: str, hours: int = 8) -> int:
    with estate.transaction() as session:
        found = announcements.create(
            session=session,
            estate_id=1,
            kind=AnnouncementKind.WATER_OUTAGE,
            title=f"{building}栋停水通知",
            text="管网维修",
            audience=announcements.Audience(buildings=(building,)),
            actor=None,
            by="测试",
            ends_at=local(2026, 11, 23, 9 + hours, 0),
        )
        return found.id


def test_during_a_water_outage_an_owners_plumbing_repair_is_told_of_it_first(
    chat: Callable[..., Chatter], estate: Database, clock: time_machine.Traveller
) -> None:
    owner = chat("张伟")  # 1-1-502
    water_cut(estate, "3")  # not his building: his repair goes as usual
    owner.say("报修")
    owner.press("水管/下水")
    assert "请描述问题" in owner.press("1-1-502")
    owner.say("取消")

    outage = water_cut(estate, "1")
    owner.say("报修")
    owner.press("水管/下水")
    told = owner.press("1-1-502")
    assert "1栋正在停水：1栋停水通知，预计 2026-11-23 17:00 恢复" in told
    assert owner.buttons == ["仍要报修", "不用了，等恢复"]
    assert "没有提交报修" in owner.press("不用了")
    assert tickets(estate) == []

    owner.say("报修")
    owner.press("水管/下水")
    owner.press("1-1-502")
    owner.press("仍要报修")
    owner.say("厨房水龙头没水")
    owner.press("跳过")
    owner.press("跳过")
    owner.press("确认提交")
    [ticket] = tickets(estate)
    [alert] = [m for m in notices(estate, "repair_reported") if names([m]) == ["陈静"]]
    assert "注意：1栋正在停水（1栋停水通知，预计 2026-11-23 17:00 恢复）" in alert.text
    # A gate that does not lock is not about the water: no question.
    owner.say("报修")
    owner.press("门窗/门锁")
    assert "请描述问题" in owner.press("1-1-502")
    owner.say("取消")

    # The digest shows it; at its end the residents it reached are told it is over.
    clock.move_to(local(2026, 11, 23, 17, 1))
    with estate.transaction() as session:
        jobs.resident_notices(session, local(2026, 11, 23, 17, 1))
    [over] = notices(estate, "announcement_over")
    assert names([over]) == ["张伟"]
    assert "1栋停水通知：停水已结束" in over.text
    with estate.session() as s:
        assert s.get_one(Announcement, outage).status is AnnouncementStatus.ENDED
    assert ticket.number


def test_the_desk_ends_an_outage_early_and_the_residents_are_told(
    chat: Callable[..., Chatter], estate: Database
) -> None:
    chat("李强")
    water_cut(estate, "3")
    desk = chat("陈静")
    desk.say("通知记录")
    desk.press("GG00001")
    assert "确认停水已恢复？将通知 3栋 的住户「3栋停水通知」已结束" in desk.press(
        "已恢复，通知住户"
    )
    assert "已结束 GG00001" in desk.press("确认提交")
    assert names(notices(estate, "announcement_over")) == ["李强"]
    # The owner's repair is no longer held up by it.
    owner = chat("李强")
    owner.say("报修")
    owner.press("水管/下水")
    assert "请描述问题" in owner.press("3-1-1204")


# ------------------------------------------------------------------ 业主评议


def test_a_drawn_owner_answers_the_survey_one_question_at_a_time(
    chat: Callable[..., Chatter], estate: Database, clock: time_machine.Traveller
) -> None:
    owner = chat("张伟")
    with estate.transaction() as session:
        drawn = surveys.start(
            session=session,
            estate_id=1,
            period="2026Q4",
            by="测试",
            rng=random.Random(1),  # noqa: S311 (a draw to repeat, not a secret)
        )
        assert (drawn.wanted, drawn.asked) == (24, 1)  # 120 occupied; one household bound
    [asked] = notices(estate, "survey_invited")
    assert "1-1-502 被抽中参加，共 7 题" in asked.text
    owner.send(button=first_button(asked))
    assert "第 1/7 题：您对「服务态度」满意吗？" in owner.text
    assert owner.buttons == ["满意", "较满意", "不满意"]
    for answer in ("满意", "较满意", "满意", "不满意", "满意", "满意"):
        owner.press(answer)
    assert "第 7/7 题：您对「总体满意度」满意吗？" in owner.text
    owner.press("较满意")
    assert "还有什么意见" in owner.text
    assert "问卷已提交" in owner.say("保洁阿姨很辛苦，但垃圾房有异味")
    assert "您已经提交过这份问卷" in owner.send(button=first_button(asked))

    clock.move_to(local(2026, 12, 8, 9, 0))
    with estate.transaction() as session:
        jobs.owner_surveys(session, local(2026, 12, 8, 9, 0))
    results, _ = notices(estate, "survey_results")
    assert names(notices(estate, "survey_results")) == ["马玲", "黄经理"]
    assert "抽取 1 户，回收 1 份（回收率 100%），综合满意率 86%" in results.text
    assert "· 保洁：0%（1 份）" in results.text
    assert "1-1-502：保洁阿姨很辛苦，但垃圾房有异味" in results.text


def test_an_owner_who_has_not_answered_is_reminded_once(
    chat: Callable[..., Chatter], estate: Database, clock: time_machine.Traveller
) -> None:
    chat("张伟")
    with estate.transaction() as session:
        surveys.start(session=session, estate_id=1, period="2026Q4", by="测试")
    for day in (27, 28, 29, 30):
        clock.move_to(local(2026, 11, day, 10, 0))
        with estate.transaction() as session:
            jobs.owner_surveys(session, local(2026, 11, day, 10, 0))
    [reminder] = notices(estate, "survey_reminder")
    assert "1-1-502 的满意度调查还没有完成，2026-12-08 截止" in reminder.text
    with estate.session() as s:
        invitation = s.scalars(select(SurveyInvitation)).one()
        assert invitation.reminded_at == local(2026, 11, 28, 10, 0)


def test_wrong_codes_in_deep_links_pause_binding_as_any_wrong_answer_does(
    chat: Callable[..., Chatter], estate: Database
) -> None:
    guesser = chat(user="tg-guess")
    for n in range(estate.settings.bind_failures_per_chat):
        reply = guesser.say(f"/start ZZZZZZZ{'23456789'[n]}")  # codes in form, binding nobody
    assert "绑定已暂停" in reply
    # Even the right code, scanned now, is refused until the pause is over.
    assert "绑定成功" not in guesser.say(f"/start {invite(estate, '张伟')}")


def test_the_digest_tells_every_reader_of_an_outage_under_way(
    chat: Callable[..., Chatter], estate: Database
) -> None:
    water_cut(estate, "3")
    with estate.session() as s:
        cuihu = s.scalars(select(Estate)).one()
        digest = reader_digest(
            session=s, estate=cuihu, day=local(2026, 11, 23).date(), department_id=None
        )
    text, _ = reader_digest_text(digest, "翠湖花园", translator(None), estate.settings.tz, 8)
    assert "停水中：3栋（3栋停水通知），预计 2026-11-23 17:00 恢复" in text


def test_a_notice_approved_cannot_then_be_withdrawn_or_sent_back(
    chat: Callable[..., Chatter], estate: Database
) -> None:
    with estate.transaction() as session:
        desk = session.scalars(select(Person).where(Person.name == "陈静")).one()
        head = session.scalars(select(Person).where(Person.name == "孙丽")).one()
        notice = announcements.create(
            session=session,
            estate_id=1,
            kind=AnnouncementKind.GENERAL,
            title="消防演练",
            text="周五下午消防演练",
            audience=announcements.Audience(),
            actor=desk,
            by="陈静",
        )
        announcements.decide(session=session, announcement_id=notice.id, actor=head, approve=True)
        with pytest.raises(IllegalTransition, match="不能改为「已撤回」"):
            announcements.cancel(session=session, announcement_id=notice.id, actor=desk)
        with pytest.raises(IllegalTransition, match="不能改为「已退回」"):
            announcements.decide(
                session=session, announcement_id=notice.id, actor=head, approve=False
            )
    # The supervisor's notice button, pressed after: told what became of it.
    supervisor = chat("孙丽")
    assert "通知 GG00001 已处理，现为「已发送」" in supervisor.send(
        button=f"/approve_notice {notice.id}"
    )

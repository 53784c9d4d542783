"""The menu walk: an offered action must work.

Every role of a lived-in estate (owners, the desk, technicians, the heads, the project
manager, security, cleaning, a stranger; repairs, complaints, findings, extension requests,
messages and callbacks in each of their states) starts from its menu and presses every
button it is shown, then every button that press shows, and so on, each press from the
database state its button was shown in. A question that wants words gets a wrong answer
first, which must be asked again with nothing answered lost, then a sensible one. The
buttons of a notice a press sends are pressed at once, by whom it reached.

A press, or a sensible answer, fails the walk when it is refused (a ``DomainError``: one
the engine's ``_refused`` ends the flow with, or one it asks again for), raises, goes
unanswered, or asks to choose among nothing; and the walk must press every menu entry and
reach every step of every flow. Only the buttons of the notices sent before the walk,
pressed after the world moved on, may be refused (saying why). Every failure is listed at
the end: who, what they pressed or typed, what they were told.

A state is walked once for each person: their flow and step, the keys of the buttons shown
(the same in every language: a language switched to is not walked again), and the ticket,
callback, finding or request the step is about.

The walk runs on SQLite alone, in memory: each branch puts back the state it starts from
with ``sqlite3``'s serialize and deserialize, a copy of a few hundred kilobytes, where
rebuilding it or replaying the presses before it on PostgreSQL would take many minutes.
About 3000 messages take half a minute. The services and flows it walks are tested on both
databases elsewhere.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import sqlite3
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, cast

import pytest
import time_machine
import yaml
from sqlalchemy import select

from conversations.engine import Engine
from conversations.flows import FLOWS
from conversations.messages import Button, Incoming, Reply
from conversations.steps import AskDate, AskPhotos, AskPlace, AskText, Choose, Context, Step
from storage.announcement import service as announcements
from storage.announcement.models import AnnouncementKind
from storage.callback import quality
from storage.callback import service as callbacks
from storage.callback.models import QualityCheckKind, Satisfaction
from storage.chat import service as chat_service
from storage.config import load_settings
from storage.database import Database
from storage.errors import DomainError, InvalidInput
from storage.estate import importer
from storage.estate import service as estates
from storage.i18n import Msg, translator
from storage.identity import service as identity
from storage.outbox.models import OutboxMessage
from storage.patrol import service as patrols
from storage.patrol import work_orders
from storage.patrol.models import PatrolCategory, PatrolFinding
from storage.people.models import Person, ResidentRelation
from storage.survey import service as surveys
from storage.ticket import complaints, lifecycle, messages, repairs
from storage.ticket.models import ComplaintSeverity, RepairCategory, Ticket
from tests.conftest import SAMPLE, SampleEstate, local

PLATFORM = "telegram"
GROUP = "-100gc"  # 工程部's notice group
# Presses from the menu: a repair is eight (报修, category, place, description, photos, time,
# confirm, 确认提交); the visited set ends the walk long before this.
MAX_DEPTH = 12
# A step of the flows the walk cannot reach, and why.
UNREACHABLE = {
    ("bind", "estate"): "the sample has one estate: binding never asks which",
}


@dataclass(frozen=True)
class Role:
    name: str
    person: str | None  # None: a stranger, bound to nobody
    chat_id: str | None = None  # a group chat; a private chat's id is the user's

    @property
    def user(self) -> str:
        return f"user-{self.person or self.name}"


ROLES = (
    Role("owner", "张伟"),
    Role("owner with two units", "李强"),
    Role("desk", "陈静"),
    Role("technician", "周师傅"),
    Role("second technician", "吴师傅"),
    Role("engineering head", "郑工"),
    Role("engineering head, in the department's group", "郑工", chat_id=GROUP),
    Role("customer-service supervisor", "孙丽"),
    Role("project manager", "黄经理"),
    Role("quality specialist", "马玲"),
    Role("security", "冯军"),
    Role("cleaner", "许阿姨"),
    Role("gardener", "林师傅"),
    Role("stranger", None),
)

# A sensible answer for every question that wants words, by (flow, step). A step missing
# here fails the walk: a new question needs its answer written down.
TYPED: dict[tuple[str, str], str] = {
    ("bind", "code"): "{invite}",  # a fresh binding code for 王芳
    ("bind", "unit"): "3-1-801",
    ("bind", "phone"): "13800138004",
    ("repair", "public_place"): "2栋电梯厅",
    ("repair", "description"): "卫生间天花板渗水",
    ("repair", "time"): "明天上午",
    ("register", "unit"): "1-1-502",
    ("register", "description"): "厨房水龙头漏水",
    ("orders", "expected"): "今天下午三点",
    ("orders", "note"): "已更换密封圈",
    ("take", "expected"): "今天下午三点",
    ("complaint", "subject"): "夜间装修噪音",
    ("complaint", "complaint_description"): "楼上每天晚上十点后还在装修",
    ("complaints", "reply"): "已联系楼上业主，晚上十点后停止施工",
    ("complaints", "reason"): "业主多次投诉仍未解决",
    ("complaints", "hand_back"): "不属于本部门，是绿化问题",
    ("complaints", "progress"): "已约谈当事人",
    ("register_complaint", "unit"): "1-1-502",
    ("register_complaint", "subject"): "停车位被占",
    ("register_complaint", "description"): "业主来电：车位连续三天被占用",
    ("messages", "answer"): "感谢您的建议，我们会尽快安排",
    ("callback", "remark"): "师傅很专业",
    ("callback", "more"): "师傅很专业",
    ("callbacks", "remark"): "业主表示满意",
    ("quality", "remark"): "复查无问题",
    ("patrol", "place"): "中心花园",
    ("patrol", "description"): "草坪枯黄",
    ("patrol", "deadline"): "11-28",
    ("rectify", "fix_note"): "已清扫干净",
    ("rectify", "return_reason"): "不属于本部门，应由工程部处理",
    ("round", "description"): "楼梯间有垃圾",
    ("round", "recheck_note"): "仍有垃圾未清理",
    ("verify", "verify_note"): "已复查",
    ("verify", "failed_note"): "仍有1盏灯不亮",
    ("extension", "new_due"): "12-20",
    ("extension", "why"): "需要等草皮到货",
    ("approvals", "opinion"): "同意",
    ("approvals", "refusal"): "理由不充分，请按期整改",
    ("bind", "name"): "钱多多",
    ("residents", "unit"): "3-1-801",
    ("residents", "name"): "孙小美",
    ("residents", "phone"): "13700000005",
    ("residents", "new_phone"): "13700000006",
    ("announce", "ends"): "18:00",
    ("announce", "places"): "3",
    ("announce", "title"): "3栋停水通知",
    ("announce", "text"): "管网维修，请提前储水",
    ("announce", "at"): "明天 8:00",
    ("approve_notice", "reason"): "请写明停水时间",
    ("survey", "remark"): "保洁很好",
}
# Where an owner's first message is not a menu entry.
PHOTO = "telegram:walk-photo"
SENTENCE = "楼道的灯坏了好几天了"


# ------------------------------------------------------------------ the lived-in estate


def _live_in(db: Database, clock: time_machine.Traveller) -> str:
    """Bound chats for every role, and work in every state. Returns a binding code."""
    with db.transaction() as session:
        importer.import_estate(session=session, data=yaml.safe_load(SAMPLE.read_text("utf-8")))
    with db.transaction() as session:
        cuihu = SampleEstate(session, estates.get_estate(session=session, code="cuihu"))
        for role in ROLES:
            if role.person is not None and role.chat_id is None:
                person = cuihu.person(role.person)
                code = identity.create_invite(session=session, person=person, estate_id=cuihu.id)
                identity.redeem_invite(
                    session=session, code=code, platform=PLATFORM, external_id=role.user
                )
        chat_service.link_department_chat(
            session=session,
            actor=cuihu.person("郑工"),
            estate_id=cuihu.id,
            platform=PLATFORM,
            chat_id=GROUP,
        )

        # A week ago: repairs done, called back (satisfied, and not: a rework), and one
        # whose callback is overdue.
        closed = cuihu.repair_done(clock, RepairCategory.PLUMBING, local(2026, 11, 16, 10, 0))
        cuihu.called_back(closed)
        reworked = cuihu.repair_done(clock, RepairCategory.ELECTRICAL, local(2026, 11, 16, 11, 0))
        cuihu.called_back(reworked, Satisfaction.UNSATISFIED, note="灯还是不亮")
        cuihu.repair_done(clock, RepairCategory.WATER_LEAK, local(2026, 11, 16, 14, 0))
        # Friday: a leak done, its callback due today; complaints answered and called back.
        cuihu.repair_done(clock, RepairCategory.WATER_LEAK, local(2026, 11, 20, 10, 0))
        # Last week's finding, fixed and verified: the project manager's 经理复查 goes over it.
        gate = _finding(cuihu, "陈静", "北门", PatrolCategory.CLEANLINESS, "bj")
        patrols.fix(session=session, finding_id=gate.id, actor=cuihu.person("许阿姨"), note="扫净")
        patrols.verify(session=session, finding_id=gate.id, actor=cuihu.person("刘洋"), passed=True)
        answered = _complain(cuihu, "李强", "2-2-301", "快递柜损坏")
        complaints.reply_complaint(
            session=session, ticket_id=answered.id, actor=cuihu.person("陈静"), text="已报修"
        )
        settled = _complain(cuihu, "张伟", "1-1-502", "门禁卡失灵")
        cuihu.forward(settled, "gc")
        complaints.take_up(session=session, ticket_id=settled.id, actor=cuihu.person("郑工"))
        complaints.reply_complaint(
            session=session, ticket_id=settled.id, actor=cuihu.person("郑工"), text="已更换"
        )
        cuihu.called_back(settled)

        # This morning: a binding code for 王芳, a chat account waiting for the desk's
        # approval of its binding, and repairs in every open state.
        clock.move_to(local(2026, 11, 23, 8, 40))
        invite = identity.create_invite(
            session=session, person=cuihu.person("王芳"), estate_id=cuihu.id
        )
        identity.bind_by_unit_and_phone(
            session=session,
            estate_id=cuihu.id,
            designation="3-1-801",
            phone="13800138004",
            platform=PLATFORM,
            external_id="tg-waiting",
        )
        _repair(cuihu, "张伟", "1-1-502", RepairCategory.PLUMBING, "厨房下水道堵塞")
        _repair(cuihu, "李强", "2-2-301", RepairCategory.GAS, "燃气味道很重")  # urgent, new
        _repair(cuihu, None, None, RepairCategory.PUBLIC_AREA, "电梯厅灯不亮", by="冯军")
        door = _repair(cuihu, "张伟", "1-1-502", RepairCategory.DOOR_LOCK, "入户门锁坏了")
        cuihu.dispatch(door, to="周师傅")
        ceiling = _repair(cuihu, "李强", "3-1-1204", RepairCategory.WALL_CEILING, "墙皮脱落")
        cuihu.dispatch(ceiling)  # to 工程部, nobody named: its group is told
        litter = _repair(cuihu, "张伟", "1-1-502", RepairCategory.OTHER, "楼道堆放垃圾")
        repairs.dispatch_repair(
            session=session,
            ticket_id=litter.id,
            actor=cuihu.person("陈静"),
            department_id=cuihu.department("bj").id,
        )
        light = _repair(cuihu, "赵敏", "3-1-801", RepairCategory.ELECTRICAL, "客厅插座没电")
        cuihu.dispatch(light, to="周师傅")
        lifecycle.accept(session=session, ticket_id=light.id, actor=cuihu.person("周师傅"))
        badge = _repair(cuihu, "张伟", "1-1-502", RepairCategory.ACCESS_CONTROL, "门禁刷不开")
        cuihu.dispatch(badge, to="周师傅")
        repairs.take(session=session, ticket_id=badge.id, actor=cuihu.person("周师傅"))
        repairs.expect(
            session=session, ticket_id=badge.id, actor=cuihu.person("周师傅"), expected_time="下午"
        )
        burst = _repair(cuihu, "李强", "2-2-301", RepairCategory.BURST_PIPE, "水管爆裂")
        repairs.take(session=session, ticket_id=burst.id, actor=cuihu.person("吴师傅"))
        lift = _repair(cuihu, "张伟", "1-1-502", RepairCategory.LIFT, "电梯异响")
        cuihu.dispatch(lift, to="吴师傅")
        lifecycle.accept(session=session, ticket_id=lift.id, actor=cuihu.person("吴师傅"))

        # Complaints: new (one asking for the leadership), taken up by the desk, forwarded,
        # taken up by the department, major, and major taken up by the project manager.
        _complain(cuihu, "张伟", "1-1-502", "夜间装修噪音")
        wish = _complain(cuihu, "赵敏", "3-1-801", "保安态度恶劣")
        wish.leadership_requested = True
        desk = _complain(cuihu, "李强", "2-2-301", "停车位被占")
        complaints.take_up(session=session, ticket_id=desk.id, actor=cuihu.person("刘洋"))
        forwarded = _complain(cuihu, "赵敏", "3-1-801", "垃圾无人清理")
        cuihu.forward(forwarded, "bj")
        taken = _complain(cuihu, "张伟", "1-1-502", "车库漏水")
        cuihu.forward(taken, "gc")
        complaints.take_up(session=session, ticket_id=taken.id, actor=cuihu.person("郑工"))
        _complain(cuihu, "李强", "2-2-301", "电梯多次困人", severity=ComplaintSeverity.MAJOR)
        held = _complain(cuihu, "张伟", "1-1-502", "账目不清", severity=ComplaintSeverity.MAJOR)
        complaints.take_up(session=session, ticket_id=held.id, actor=cuihu.person("黄经理"))
        # A message for the desk; the owners asked in chat for their callbacks.
        messages.leave_message(
            session=session,
            actor=cuihu.person("李强"),
            text="小区什么时候清洗水箱？",
            estate_id=cuihu.id,
            unit_id=cuihu.unit("2-2-301").id,
        )
        for callback in callbacks.pending(session=session, estate_id=cuihu.id):
            callbacks.ask_owner(session=session, callback_id=callback.id)
        # Quality checks drawn: the specialist's week and the manager's month.
        for kind in QualityCheckKind:
            quality.draw(
                session=session,
                estate_id=cuihu.id,
                kind=kind,
                period="walk",
                done_from=local(2026, 11, 1, 0, 0),
                done_until=local(2026, 11, 24, 0, 0),
                size=3,
            )

        # Findings: open (one with an extension asked), fixed by a technician and by the
        # department's head, fixed on site, and one fixed while its extension waits.
        lawn = _finding(cuihu, "陈静", "中心花园", PatrolCategory.LANDSCAPING, "lh")
        patrols.request_extension(
            session=session,
            finding_id=lawn.id,
            actor=cuihu.person("林师傅"),
            new_due_on=date(2026, 12, 7),
            reason="需要等草皮到货",
        )
        _finding(cuihu, "冯军", "3栋大堂", PatrolCategory.PUBLIC_FACILITY, "gc")
        garage = _finding(cuihu, "陈静", "2栋车库", PatrolCategory.PUBLIC_FACILITY, "gc")
        patrols.fix(
            session=session, finding_id=garage.id, actor=cuihu.person("周师傅"), note="更换灯管"
        )
        stairs = _finding(cuihu, "冯军", "1栋楼道", PatrolCategory.PUBLIC_FACILITY, "gc")
        patrols.fix(
            session=session, finding_id=stairs.id, actor=cuihu.person("郑工"), note="修好扶手"
        )
        patrols.report_finding(
            session=session,
            actor=cuihu.person("冯军"),
            estate_id=cuihu.id,
            place="消防通道",
            category=PatrolCategory.FIRE_VIOLATION,
            description="堆放杂物",
            fixed_on_site=True,
        )
        bins = _finding(cuihu, "陈静", "3栋垃圾房", PatrolCategory.CLEANLINESS, "bj")
        patrols.request_extension(
            session=session,
            finding_id=bins.id,
            actor=cuihu.person("许阿姨"),
            new_due_on=date(2026, 12, 7),
            reason="清运车辆检修",
        )
        patrols.fix(
            session=session, finding_id=bins.id, actor=cuihu.person("许阿姨"), note="已清运"
        )
        # Handed back by the gardeners to the desk; a broken lamp made a work order.
        roof = _finding(cuihu, "陈静", "2栋天台", PatrolCategory.OTHER, "lh")
        patrols.hand_back(
            session=session, finding_id=roof.id, actor=cuihu.person("林师傅"), reason="不是绿化"
        )
        lamp = _finding(cuihu, "陈静", "3栋电梯厅", PatrolCategory.PUBLIC_FACILITY, "gc")
        work_orders.to_work_order(
            session=session,
            finding_id=lamp.id,
            actor=cuihu.person("陈静"),
            category=RepairCategory.ELECTRICAL,
        )

        # Residents and notices: someone not on the roster asks to be added; a notice
        # waits for approval, and building 1's lift is under maintenance; the quarter's
        # survey asks the bound owners.
        identity.request_to_join(
            session=session,
            estate_id=cuihu.id,
            designation="3-1-1203",
            name="钱多多",
            relation=ResidentRelation.TENANT,
            phone="13700000009",
            platform=PLATFORM,
            external_id="tg-joining",
        )
        announcements.create(
            session=session,
            estate_id=cuihu.id,
            kind=AnnouncementKind.GENERAL,
            title="物业费缴纳提醒",
            text="请于月底前缴纳物业费",
            audience=announcements.Audience(),
            actor=cuihu.person("陈静"),
            by="陈静",
        )
        announcements.create(
            session=session,
            estate_id=cuihu.id,
            kind=AnnouncementKind.LIFT_OUTAGE,
            title="1栋电梯保养",
            text="1栋电梯今天保养",
            audience=announcements.Audience(buildings=("1",)),
            actor=cuihu.person("孙丽"),
            by="孙丽",
            ends_at=local(2026, 11, 23, 17, 0),
        )
        surveys.start(session=session, estate_id=cuihu.id, period="2026Q4", by="walk")
    clock.move_to(local(2026, 11, 23, 10, 0))
    return invite


def _repair(
    cuihu: SampleEstate,
    reporter: str | None,
    unit: str | None,
    category: RepairCategory,
    description: str,
    *,
    by: str | None = None,
) -> Ticket:
    return repairs.report_repair(
        session=cuihu.session,
        actor=cuihu.person(by or reporter or ""),
        unit_id=cuihu.unit(unit).id if unit else None,
        estate_id=None if unit else cuihu.id,
        place=None if unit else "2栋电梯厅",
        category=category,
        description=description,
    )


def _complain(
    cuihu: SampleEstate,
    reporter: str,
    unit: str,
    subject: str,
    severity: ComplaintSeverity = ComplaintSeverity.GENERAL,
) -> Ticket:
    major = severity is not ComplaintSeverity.GENERAL  # the desk's judgement, registered
    return complaints.file_complaint(
        session=cuihu.session,
        actor=cuihu.person("陈静" if major else reporter),
        on_behalf_of=cuihu.person(reporter).id if major else None,
        subject=subject,
        description=subject,
        severity=severity,
        unit_id=cuihu.unit(unit).id,
    )


def _finding(
    cuihu: SampleEstate, by: str, place: str, category: PatrolCategory, department: str
) -> PatrolFinding:
    return patrols.report_finding(
        session=cuihu.session,
        actor=cuihu.person(by),
        estate_id=cuihu.id,
        place=place,
        category=category,
        description=place + "有问题",
        department_id=cuihu.department(department).id,
    )


# ------------------------------------------------------------------ one message, watched


class Refusals(logging.Handler):
    """What the engine's ``_refused`` logs: a flow ended by a ``DomainError``."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if hasattr(record, "refusal"):
            self.seen.append(f"{record.refusal}: {record.getMessage()}")


@dataclass
class Outcome:
    """The answer to one message, and where it left the conversation."""

    replies: tuple[Reply, ...] = ()
    flow: str | None = None
    step: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    locale: str | None = None  # the person's, once bound
    refusals: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # worse than a refusal
    # New notices with buttons, by whom they are for: (recipient's person id or group, key,
    # label).
    notices: list[tuple[int | str, str, str]] = field(default_factory=list)

    @property
    def buttons(self) -> tuple[Button, ...]:
        return tuple(button for reply in self.replies for button in reply.buttons)

    @property
    def text(self) -> str:
        return "\n".join(reply.text for reply in self.replies)


class Walk:
    """The engine on an in-memory SQLite database whose state is kept and put back."""

    def __init__(self, db: Database, refusals: Refusals, asked_again: list[DomainError]) -> None:
        self.db = db
        self.engine = Engine(db, FLOWS)
        self.flows = {flow.key: flow for flow in FLOWS}
        self.refusals = refusals
        self.asked_again = asked_again  # what a step's take raised: InvalidInput and the like
        self.ids = itertools.count(1)
        self.messages = 0
        self.invite = ""  # a binding code nobody has used, for 绑定's first question

    def sqlite(self) -> sqlite3.Connection:
        raw = self.db.engine.raw_connection()
        connection = cast(sqlite3.Connection, raw.driver_connection)
        raw.close()  # back to the pool, which keeps this one connection for the thread
        return connection

    def keep(self) -> bytes:
        state = bytearray(self.sqlite().serialize())
        # The template's file was in WAL mode, and its header says so (bytes 18 and 19):
        # deserialized like that, the copy would look for a -wal file.
        state[18:20] = b"\x01\x01"
        return bytes(state)

    def restore(self, state: bytes) -> None:
        self.sqlite().deserialize(state)

    def send(self, role: Role, **fields: Any) -> Outcome:
        self.messages += 1
        self.refusals.seen.clear()
        self.asked_again.clear()
        chat_id = role.chat_id or role.user
        message = Incoming(PLATFORM, chat_id, role.user, f"walk-{next(self.ids)}", **fields)
        outcome = Outcome()
        # Read straight from SQLite: a transaction for each would double the walk's time.
        sqlite = self.sqlite()
        (last,) = sqlite.execute("SELECT coalesce(max(id), 0) FROM outbox_message").fetchone()
        try:
            outcome.replies = self.engine.handle(message).replies
        except Exception as error:  # a bug: the walk goes on, and the failure is listed
            frame = traceback.extract_tb(error.__traceback__)[-1]
            outcome.problems.append(
                f"raised {type(error).__name__}: {error} ({frame.filename}:{frame.lineno})"
            )
            return outcome
        flow, step, data = sqlite.execute(
            "SELECT flow, step, data FROM conversation"
            " WHERE platform = ? AND chat_id = ? AND user_id = ?",
            (PLATFORM, chat_id, role.user),
        ).fetchone()
        outcome.flow, outcome.step, outcome.data = flow, step, json.loads(data)
        bound = sqlite.execute(
            "SELECT locale FROM person JOIN chat_identity ON person_id = person.id"
            " WHERE platform = ? AND external_id = ?",
            (PLATFORM, role.user),
        ).fetchone()
        outcome.locale = bound[0] if bound else None
        notices = sqlite.execute(
            "SELECT recipient_id, chat_id, buttons FROM outbox_message"
            " WHERE id > ? AND in_reply_to IS NULL AND buttons IS NOT NULL",
            (last,),
        )
        outcome.notices = [
            (recipient or group, key, label)
            for recipient, group, buttons in notices
            for key, label in json.loads(buttons) or ()  # (JSON's null, for no buttons)
        ]
        if not outcome.text.strip():
            outcome.problems.append("no answer")
        outcome.refusals += self.refusals.seen
        outcome.refusals += [
            f"asked again: {type(e).__name__}: {e}"
            for e in dict.fromkeys(self.asked_again)
            if isinstance(e, InvalidInput)  # (the others end the flow, and the engine logs them)
        ]
        if outcome.locale is not None:
            permission = _no_permission(outcome.locale)
            outcome.refusals += [
                f"no permission for 「{permission[r.text]}」"
                for r in outcome.replies
                if r.text in permission
            ]
        if isinstance(self.step_of(outcome), Choose) and not outcome.replies[-1].buttons:
            outcome.problems.append(f"{flow}/{step} asks to choose, and offers nothing")
        return outcome

    def step_of(self, outcome: Outcome) -> Step | None:
        if outcome.flow is None or outcome.step is None:
            return None
        return self.flows[outcome.flow].step(outcome.step)


@functools.cache
def _no_permission(locale: str) -> dict[str, str]:
    """What the engine says when a flow is not the person's to use, for each flow."""
    t = translator(locale)
    return {t(Msg("您没有权限使用「{flow}」。", flow=Msg(f.title))): f.title for f in FLOWS}


def _recording(take: Callable[..., Any], caught: list[DomainError]) -> Callable[..., Any]:
    def recorded(self: Step, ctx: Context) -> Any:
        try:
            return take(self, ctx)
        except DomainError as error:
            caught.append(error)
            raise

    return recorded


@pytest.fixture
def walk(tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Walk]:
    settings = load_settings(
        database_url="sqlite://",  # in memory: see the module's docstring
        bind_requires_approval=True,  # so that 绑定审核 is in the desk's menu
        attachments_dir=tmp_path / "attachments",
        inbox_dir=tmp_path / "inbox",
    )
    db = Database(settings)
    # An answer asked again is no refusal the engine logs: it is seen where steps raise it.
    caught: list[DomainError] = []
    for kind in (Choose, AskText, AskPlace, AskPhotos, AskDate):
        monkeypatch.setattr(kind, "take", _recording(kind.take, caught))
    refusals = Refusals()
    engine_log = logging.getLogger("conversations.engine")
    level = engine_log.level
    engine_log.addHandler(refusals)
    engine_log.setLevel(logging.INFO)
    try:
        with time_machine.travel(local(2026, 11, 16, 9, 0), tick=False) as clock:
            walker = Walk(db, refusals, caught)
            migrated = sqlite3.connect(sqlite_template)
            migrated.backup(walker.sqlite())
            migrated.close()
            walker.invite = _live_in(db, clock)
            yield walker
    finally:
        engine_log.removeHandler(refusals)
        engine_log.setLevel(level)
        db.dispose()


# ------------------------------------------------------------------ the walk


@dataclass(frozen=True)
class Node:
    """A role looking at buttons, and the database as it was when they were shown."""

    role: Role
    state: bytes
    path: tuple[str, ...]  # what was pressed or typed to get here
    outcome: Outcome
    # The buttons of notices sent before the walk: pressed after the world moved on, they
    # may be refused (saying why).
    stale: frozenset[str] = frozenset()


@dataclass
class Report:
    failures: list[str] = field(default_factory=list)
    steps: set[tuple[str, str]] = field(default_factory=set)
    started: set[str] = field(default_factory=set)
    states: int = 0

    def fail(self, role: Role, path: tuple[str, ...], outcome: Outcome, *problems: str) -> None:
        said = outcome.text.replace("\n", " / ")[:240]
        self.failures.append(
            f"{role.name} ({role.person or '-'}): {' → '.join(path)}\n"
            + "".join(f"    {problem}\n" for problem in problems)
            + f"    「{said}」"
        )

    def check(
        self, role: Role, path: tuple[str, ...], outcome: Outcome, *, stale: bool = False
    ) -> bool:
        """Fine, or a failure listed. A notice's button pressed after the world moved on
        (``stale``) may be refused, saying why; it may not fail worse."""
        if outcome.flow is not None and outcome.step is not None:
            self.steps.add((outcome.flow, outcome.step))
        problems = outcome.problems + ([] if stale else outcome.refusals)
        if problems:
            self.fail(role, path, outcome, *problems)
        return not problems


Child = tuple[Role, tuple[str, ...], Outcome]
# What a step is about, in the conversation's data: the walk visits a step once for each.
ABOUT = (
    "ticket_id",
    "callback_id",
    "finding_id",
    "request_id",
    "announcement_id",
    "invitation_id",
    "question",  # the survey's: one step, asked once for each item
    "joining",  # binding's unit and phone, for someone on the roster or not yet
)


def _visited_key(role: Role, outcome: Outcome) -> tuple[object, ...]:
    """Where someone stands: their flow and step, the buttons they are shown (by key: the
    same in every language), and the ticket, callback, finding or request it is about. One
    person in two chats (郑工 in his own and in his department's group) is walked once."""
    who = role.person if outcome.locale is not None else role.name
    about = tuple(outcome.data.get(key) for key in ABOUT)
    keys = tuple(sorted({button.key for button in outcome.buttons}))
    return (who, outcome.flow, outcome.step, keys, about)


def _wrong_answer(step: AskText | AskDate) -> str:
    """An answer the step must ask again for: not a day, or too long."""
    if isinstance(step, AskDate):
        return "下个月吧"
    return "长" * (step.max_length + 1)


class Walker:
    """Breadth-first from every role's menu, each state once."""

    def __init__(self, walk: Walk, report: Report) -> None:
        self.walk = walk
        self.report = report
        with walk.db.transaction() as session:
            ids = {p.name: p.id for p in session.scalars(select(Person))}
        # Whom a notice reaches: a person in their own chat, or a group.
        self.reached: dict[int | str, Role] = {}
        for role in reversed(ROLES):
            if role.chat_id is not None:
                self.reached[role.chat_id] = role
            elif role.person is not None:
                self.reached[ids[role.person]] = role

    def presses(self, node: Node) -> list[tuple[str, dict[str, Any]]]:
        presses: list[tuple[str, dict[str, Any]]] = [
            (button.label, {"button": button.key})
            for button in {b.key: b for b in node.outcome.buttons}.values()
        ]
        if node.outcome.flow is None and len(node.path) == 1:
            # Outside any flow: a photo, and a sentence, that name no flow.
            presses += [
                ("(a photo)", {"photos": (PHOTO,)}),
                (f"「{SENTENCE}」", {"text": SENTENCE}),
            ]
        if isinstance(self.walk.step_of(node.outcome), AskPhotos):
            presses.append(("(a photo)", {"photos": (PHOTO,)}))
        return presses

    def children(self, node: Node) -> Iterator[Child]:
        """Every button of ``node`` pressed, and its question answered, each from its state,
        and the buttons of the notices each sent; the database is the child's while the
        caller looks at it (and keeps it)."""
        walk, role = self.walk, node.role
        for label, fields in self.presses(node):
            walk.restore(node.state)
            outcome = walk.send(role, **fields)
            stale = fields.get("button") in node.stale
            yield from self.answered(node, (*node.path, label), outcome, fields, stale=stale)
        step = walk.step_of(node.outcome)
        if not isinstance(step, AskText | AskDate):
            return
        flow, name = node.outcome.flow, node.outcome.step
        typed = TYPED.get((str(flow), str(name)), "").format(invite=walk.invite)
        if not typed:
            self.report.fail(role, node.path, node.outcome, f"no answer written for {flow}/{name}")
            return
        walk.restore(node.state)
        # A wrong answer first: refused, and the same question asked again, nothing answered
        # so far lost.
        wrong = _wrong_answer(step)
        path = (*node.path, f"「{wrong[:4]}…」")
        again = walk.send(role, text=wrong)
        if (again.flow, again.step) != (flow, name) or not again.replies:
            self.report.fail(role, path, again, "a wrong answer ended the question")
            return
        if again.replies[-1] != node.outcome.replies[-1]:
            self.report.fail(role, path, again, "a wrong answer was followed by another question")
        if again.data != node.outcome.data:
            self.report.fail(role, path, again, "a wrong answer changed what was answered before")
        outcome = walk.send(role, text=typed)
        if outcome.flow is None and walk.refusals.seen:
            outcome.refusals.append("the typed answer is lost: the flow ended on a refusal")
        yield from self.answered(node, (*path, f"「{typed}」"), outcome, {})

    def answered(
        self,
        node: Node,
        path: tuple[str, ...],
        outcome: Outcome,
        fields: dict[str, Any],
        *,
        stale: bool = False,
    ) -> Iterator[Child]:
        if not self.report.check(node.role, path, outcome, stale=stale):
            return
        button = str(fields.get("button", ""))
        if button.startswith("/"):
            self.report.started.add(button[1:].split(" ")[0])
        yield node.role, path, outcome
        if not outcome.notices:
            return
        # A notice's buttons, pressed by whom it reached, at once: then they must work.
        state = self.walk.keep()
        for recipient, key, label in outcome.notices:
            role = self.reached.get(recipient)
            if role is None:
                continue  # someone the walk does not play (刘洋, 罗主管 …)
            self.walk.restore(state)
            pressed = self.walk.send(role, button=key)
            noticed = (*path, f"[{role.name}] {label}")
            if self.report.check(role, noticed, pressed):
                self.report.started.add(key[1:].split(" ")[0])
                yield role, noticed, pressed

    def start(self, role: Role) -> Node:
        """The role's menu, and the buttons of the notices it was sent before the walk."""
        with self.walk.db.transaction() as session:
            rows = session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.in_reply_to.is_(None), OutboxMessage.buttons.is_not(None)
                )
            )
            notices = {
                key: Button(key, label)
                for row in rows
                if self.reached.get(row.recipient_id or row.chat_id or "") == role
                for key, label in row.buttons or ()
            }
        menu = self.walk.send(role, text="菜单")
        assert self.report.check(role, ("菜单",), menu), self.report.failures
        shown = replace(menu, replies=(*menu.replies, Reply("", tuple(notices.values()))))
        stale = frozenset(notices) - {button.key for button in menu.buttons}
        return Node(role, self.walk.keep(), ("菜单",), shown, stale)

    def run(self) -> None:
        lived_in = self.walk.keep()
        visited: set[tuple[object, ...]] = set()
        waiting: deque[Node] = deque()
        for role in ROLES:
            self.walk.restore(lived_in)
            node = self.start(role)
            visited.add(_visited_key(role, node.outcome))
            waiting.append(node)
        while waiting:
            node = waiting.popleft()
            self.report.states += 1
            for role, path, outcome in self.children(node):
                key = _visited_key(role, outcome)
                # A stranger who bound is someone else's walk (王芳, 赵敏 are owners too).
                bound = role.person is None and outcome.locale is not None
                if key not in visited and len(path) <= MAX_DEPTH and not bound:
                    visited.add(key)
                    waiting.append(Node(role, self.walk.keep(), path, outcome))


def test_every_offered_action_works_for_every_role(walk: Walk) -> None:
    report = Report()
    Walker(walk, report).run()

    assert not report.failures, (
        f"{len(report.failures)} of {walk.messages} messages failed:\n" + "\n".join(report.failures)
    )
    menus = {flow.key for flow in FLOWS if flow.listed and not flow.greets_strangers}
    assert menus <= report.started, f"menu entries never pressed: {menus - report.started}"
    every_step = {(flow.key, step.name) for flow in FLOWS for step in flow.steps}
    missed = every_step - report.steps - UNREACHABLE.keys()
    assert not missed, f"steps never reached: {sorted(missed)}"
    print(f"menu walk: {walk.messages} messages, {report.states} states, {len(ROLES)} roles")

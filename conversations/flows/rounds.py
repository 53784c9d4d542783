"""巡检记录: a patrol round recorded area by area (正常, or a finding reported on the spot
with the place filled in), or, for the project manager's 经理复查, last week's findings
one by one (合格, or 不合格: a verified one goes back to its department)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from conversations.flows.common import chosen_id, day, estate_id, staff
from conversations.flows.patrols import (
    REPAIR_CATEGORIES,
    TO_REPAIR,
    WHAT_WAS_FOUND,
    departments_or_repair,
)
from conversations.steps import (
    NO,
    YES,
    AskText,
    Choose,
    Context,
    Flow,
    Next,
    Option,
    confirm_step,
    then,
    unless_empty,
)
from storage.clock import utcnow
from storage.i18n import N_
from storage.patrol import rounds, work_orders
from storage.patrol import service as patrols
from storage.patrol.models import (
    FINDING_STATUS_LABELS,
    FindingStatus,
    PatrolCategory,
    PatrolFinding,
    PatrolRound,
    RoundKind,
)
from storage.people import service as people
from storage.people.models import DepartmentKind
from storage.ticket.models import RepairCategory

NORMAL = Option("ok", N_("正常"))
PROBLEM = Option("problem", N_("有问题"))
PASSED = Option("ok", N_("合格"))
FAILED = Option("failed", N_("不合格"))


def walks_rounds(ctx: Context) -> bool:
    """In the menu of whoever walks one of the estate's rounds."""
    post = ctx.post
    if post is None:
        return False
    walked = ctx.session.scalars(
        select(PatrolRound.walkers).where(
            PatrolRound.estate_id == post.estate_id, PatrolRound.active.is_(True)
        )
    )
    return any(post.staff_code in codes for codes in walked)


def _due(ctx: Context) -> list[Option]:
    return [
        Option(
            str(r.id),
            f"{r.name} {r.starts_at:%H:%M}-{r.ends_at:%H:%M}",
            translate=False,
        )
        for r in rounds.to_record(session=ctx.session, post=staff(ctx), now=utcnow())
    ]


_list_due = unless_empty(_due, N_("现在没有待登记的巡检（巡检时段开始后才能登记）。"), "round")


def _round(ctx: Context) -> PatrolRound:
    return ctx.session.get_one(PatrolRound, ctx.data["round_id"])


@then("round", "area", "recheck", "confirm")
def _round_start(ctx: Context) -> Next:
    """From the reminder's button, that round; from the menu, today's rounds still to do."""
    wanted = ctx.data.get("argument", "")
    if wanted.isdigit() and wanted in {o.key for o in _due(ctx)}:
        return _begin(ctx, wanted)
    return _list_due(ctx)


@then("area", "recheck", "confirm")
def _begin(ctx: Context, key: str) -> Next:
    ctx.data["round_id"] = chosen_id(key)
    ctx.data["checks"] = []
    ctx.data["index"] = 0
    patrol_round = _round(ctx)
    if patrol_round.kind is RoundKind.RECHECK:
        ctx.data["items"] = [
            f.id
            for f in rounds.last_week_findings(
                session=ctx.session, estate_id=patrol_round.estate_id, today=ctx.today()
            )
        ]
        return "recheck" if ctx.data["items"] else "confirm"
    ctx.data["items"] = patrol_round.area_names()
    return "area"


def _next(ctx: Context, check: dict[str, Any]) -> Next:
    """The area (or finding) done: on to the next one, or to the summary after the last."""
    ctx.data["checks"].append(check)
    ctx.data["index"] += 1
    if ctx.data["index"] >= len(ctx.data["items"]):
        return "confirm"
    return "recheck" if _round(ctx).kind is RoundKind.RECHECK else "area"


# ------------------------------------------------------------------ areas


def _area(ctx: Context) -> str:
    return str(ctx.data["items"][ctx.data["index"]])


def _area_prompt(ctx: Context) -> str:
    patrol_round = _round(ctx)
    index = ctx.data["index"]
    area = patrol_round.areas[index]
    text = ctx.t(
        "{round} 第 {n}/{total} 项：{area}",
        round=patrol_round.name,
        n=index + 1,
        total=len(patrol_round.areas),
        area=area["name"],
    )
    if area.get("points"):
        text += "\n" + ctx.t("检查点：{points}", points="、".join(area["points"]))
    return text


@then("area", "confirm", "category")
def _area_checked(ctx: Context, key: str) -> Next:
    if key == PROBLEM.key:
        ctx.data["photos"] = []
        return "category"
    return _next(ctx, {"area": _area(ctx), "ok": True})


@then("area", "confirm", "department")
def _onsite(ctx: Context, key: str) -> Next:
    if key == YES.key:
        return _finding_reported(ctx, fixed_on_site=True)
    return "department"


@then("area", "confirm", "repair_category")
def _department(ctx: Context, key: str) -> Next:
    if key == TO_REPAIR.key:
        return "repair_category"
    return _finding_reported(ctx, department_id=chosen_id(key))


@then("area", "confirm")
def _repair_category(ctx: Context, key: str) -> Next:
    engineering = people.department_of_kind(
        session=ctx.session, estate_id=estate_id(ctx), kind=DepartmentKind.ENGINEERING
    )
    return _finding_reported(ctx, department_id=engineering.id, repair=RepairCategory(key))


def _finding_reported(
    ctx: Context,
    *,
    fixed_on_site: bool = False,
    department_id: int | None = None,
    repair: RepairCategory | None = None,
) -> Next:
    """The finding is stored at once (an urgent one pages now, not after the round), with
    the area as its place; the round goes on."""
    patrol_round = _round(ctx)
    finding = patrols.report_finding(
        session=ctx.session,
        actor=ctx.me,
        estate_id=patrol_round.estate_id,
        place=_area(ctx),
        category=PatrolCategory(ctx.data["category"]),
        description=ctx.data["description"],
        photos=ctx.data.get("photos", []),
        fixed_on_site=fixed_on_site,
        department_id=department_id,
    )
    if repair is not None:
        ticket = work_orders.to_work_order(
            session=ctx.session, finding_id=finding.id, actor=ctx.me, category=repair
        )
        ctx.say("已登记 {number}，转维修单 {ticket}。", number=finding.number, ticket=ticket.number)
    elif fixed_on_site:
        ctx.say("已登记 {number}（现场整改）。", number=finding.number)
    else:
        ctx.say(
            "已登记 {number}，已通知{department}，整改期限 {due_on}。",
            number=finding.number,
            department=finding.department.name if finding.department else "",
            due_on=day(ctx, finding.due_at),
        )
    ctx.data["photos"] = []
    return _next(ctx, {"area": _area(ctx), "ok": False, "finding_id": finding.id})


# ------------------------------------------------------------------ 经理复查


def _item(ctx: Context) -> PatrolFinding:
    return ctx.session.get_one(PatrolFinding, ctx.data["items"][ctx.data["index"]])


def _recheck_prompt(ctx: Context) -> str:
    finding = _item(ctx)
    return ctx.t(
        "经理复查 第 {n}/{total} 项：{number} {place}\n{description}\n"
        "状态：{status}（{department}）",
        n=ctx.data["index"] + 1,
        total=len(ctx.data["items"]),
        number=finding.number,
        place=finding.place,
        description=finding.description,
        status=ctx.t(FINDING_STATUS_LABELS[finding.status]),
        department=finding.department.name if finding.department else ctx.t("现场整改"),
    )


@then("recheck", "confirm", "recheck_note")
def _rechecked(ctx: Context, key: str) -> Next:
    finding = _item(ctx)
    if key == FAILED.key:
        return "recheck_note"
    return _next(ctx, {"area": finding.number, "ok": True, "finding_id": finding.id})


@then("recheck", "confirm")
def _recheck_note(ctx: Context, text: str) -> Next:
    finding = _item(ctx)
    return _next(ctx, {"area": finding.number, "ok": False, "finding_id": finding.id, "note": text})


# ------------------------------------------------------------------ the record


def _summary(ctx: Context) -> str:
    patrol_round = _round(ctx)
    checks = ctx.data["checks"]
    if not checks:
        return ctx.t("{round}：上周没有巡查问题，登记本次复查？", round=patrol_round.name)
    lines = [ctx.t("请确认{round}记录：", round=patrol_round.name)]
    for check in checks:
        lines.append(f"· {check['area']}：" + (ctx.t("正常") if check["ok"] else ctx.t("有问题")))
    return "\n".join(lines)


@then()
def _record(ctx: Context) -> Next:
    patrol_round = _round(ctx)
    checks = ctx.data["checks"] or [{"area": ctx.t("上周无巡查问题"), "ok": True}]
    if patrol_round.kind is RoundKind.RECHECK:
        for check in checks:
            finding = (
                ctx.session.get(PatrolFinding, check["finding_id"])
                if check.get("finding_id")
                else None
            )
            if not check["ok"] and finding is not None and finding.status is FindingStatus.VERIFIED:
                patrols.reopen(
                    session=ctx.session, finding_id=finding.id, actor=ctx.me, note=check["note"]
                )
                ctx.say(
                    "{number} 复查不合格，已退回{department}。",
                    number=finding.number,
                    department=finding.department.name if finding.department else "",
                )
    visit = rounds.record(
        session=ctx.session,
        actor=ctx.me,
        round_id=patrol_round.id,
        checks=[
            rounds.Check(c["area"], c["ok"], c.get("finding_id"), c.get("note")) for c in checks
        ],
    )
    problems = sum(not c.ok for c in visit.checks)
    ctx.say(
        "已登记{round}：{count} 项，{problems} 项有问题。",
        round=patrol_round.name,
        count=len(visit.checks),
        problems=problems,
    )
    return None


ROUND = Flow(
    key="round",
    title=N_("巡检记录"),
    allowed=walks_rounds,
    start=_round_start,
    collects_photos=True,
    steps=[
        Choose("round", N_("今天待登记的巡检："), _due, _begin),
        Choose("area", _area_prompt, [NORMAL, PROBLEM], _area_checked),
        *WHAT_WAS_FOUND,
        Choose("onsite", N_("已经现场整改了吗？"), [YES, NO], _onsite),
        Choose(
            "department",
            N_("交给哪个部门整改？公共设施损坏可转维修单。"),
            departments_or_repair,
            _department,
        ),
        Choose("repair_category", N_("维修类别："), REPAIR_CATEGORIES, _repair_category),
        Choose("recheck", _recheck_prompt, [PASSED, FAILED], _rechecked),
        AskText(
            "recheck_note",
            N_("复查意见（仍存在什么问题）："),
            _recheck_note,
            what=N_("复查意见"),
            max_length=500,
        ),
        confirm_step("confirm", _summary, _record),
    ],
)

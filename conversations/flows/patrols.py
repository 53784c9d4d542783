"""Patrols in chat: 巡查 (a finding), 整改 (the department fixes it, makes it a work order,
asks for more time or hands it back; the desk sends a handed-back one on), 现场验证 (the
patroller verifies a fix), 申请延期, 延期审批 (the department head or the project manager
decides)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from conversations.flows.common import (
    chosen_id,
    day,
    department_options,
    estate_id,
    has_role,
    is_staff,
    label,
    staff,
    when,
)
from conversations.messages import Reply
from conversations.steps import (
    NO,
    YES,
    AskDate,
    AskPhotos,
    AskPlace,
    AskText,
    Choose,
    Context,
    Flow,
    Next,
    Option,
    Step,
    confirm_step,
    go,
    remember,
    then,
    unless_empty,
)
from storage.attachment.models import AttachmentKind
from storage.clock import utcnow
from storage.i18n import N_
from storage.patrol import notices, work_orders
from storage.patrol import service as patrols
from storage.patrol.models import (
    FINDING_STATUS_LABELS,
    PATROL_CATEGORY_LABELS,
    ExtensionRequest,
    FindingStatus,
    PatrolCategory,
    PatrolFinding,
)
from storage.people import service as people
from storage.people.models import MANAGER_ROLES, VERIFIER_ROLES, DepartmentKind
from storage.ticket.lifecycle import WORK_UNFINISHED
from storage.ticket.models import RepairCategory

# ------------------------------------------------------------------ 巡查


# 001 4.4.5: not fixed, and not to wait for the digest (a gas or burning smell): the
# department head, who is on duty and the project manager are paged when it is reported.
URGENT = Option("urgent", N_("否，需紧急处理"))


@then("confirm", "department")
def _onsite(ctx: Context, key: str) -> Next:
    ctx.data["fixed_on_site"] = key == YES.key
    if key == YES.key:
        return "confirm"
    # What was written may make it urgent by itself (燃气味, 焦味, …).
    ctx.data["urgent"] = key == URGENT.key or patrols.is_urgent(
        ctx.data["description"], False, ctx.settings
    )
    return "department"


TO_REPAIR = Option("repair", N_("转维修单"))


def departments_or_repair(ctx: Context) -> list[Option]:
    """The departments, and 转维修单 for a broken facility (001 4.9.2a: handled as a repair)."""
    return [*department_options(ctx), TO_REPAIR]


@then("deadline", "repair_category")
def _department(ctx: Context, key: str) -> Next:
    if key == TO_REPAIR.key:
        ctx.data["to_repair"] = True
        return "repair_category"
    ctx.data["department_id"] = chosen_id(key)
    ctx.data.pop("to_repair", None)
    return "deadline"


REPAIR_CATEGORIES = [Option(c.value, c.label) for c in RepairCategory]


def _deadline_prompt(ctx: Context) -> str:
    return ctx.t("整改期限？（默认 {days} 天，最长 {days} 天）", days=ctx.settings.patrol_fix_days)


def _deadline_days(ctx: Context) -> tuple[int, ...]:
    """Tomorrow, in three days, and the last day allowed."""
    longest = ctx.settings.patrol_fix_days
    return tuple(sorted({days for days in (1, 3) if days < longest} | {longest}))


@then("confirm")
def _deadline(ctx: Context, due_on: date) -> Next:
    patrols.fix_deadline(session=ctx.session, due_on=due_on, now=utcnow())  # asks again if too long
    ctx.data["due_on"] = due_on.isoformat()
    return "confirm"


def _patrol_summary(ctx: Context) -> str:
    category = PatrolCategory(ctx.data["category"])
    lines = ctx.t(
        "请确认巡查记录：\n地点：{place}\n类别：{category}\n描述：{description}\n照片：{photos} 张",
        place=ctx.data["place"],
        category=label(PATROL_CATEGORY_LABELS[category]),
        description=ctx.data["description"],
        photos=len(ctx.data.get("photos", [])),
    )
    if ctx.data.get("fixed_on_site"):
        return lines + "\n" + ctx.t("已现场整改")
    if ctx.data.get("urgent"):
        lines += "\n" + ctx.t("紧急：提交后立即通知部门主管、值班人员和项目经理")
    if ctx.data.get("to_repair"):
        repair = RepairCategory(ctx.data["repair_category"])
        return lines + "\n" + ctx.t("转维修单：{category}", category=label(repair.label))
    names = {o.key: o.label for o in department_options(ctx)}
    return (
        lines
        + "\n"
        + ctx.t(
            "责任部门：{department}\n整改期限：{due_on}",
            department=names.get(str(ctx.data["department_id"]), ""),
            due_on=ctx.data["due_on"],
        )
    )


@then()
def _report_finding(ctx: Context) -> Next:
    to_repair = bool(ctx.data.get("to_repair"))
    department_id = ctx.data.get("department_id")
    if to_repair:
        department_id = people.department_of_kind(
            session=ctx.session, estate_id=estate_id(ctx), kind=DepartmentKind.ENGINEERING
        ).id
    finding = patrols.report_finding(
        session=ctx.session,
        actor=ctx.me,
        estate_id=estate_id(ctx),
        place=ctx.data["place"],
        category=PatrolCategory(ctx.data["category"]),
        description=ctx.data["description"],
        photos=ctx.data.get("photos", []),
        fixed_on_site=bool(ctx.data.get("fixed_on_site")),
        department_id=department_id,
        due_on=date.fromisoformat(ctx.data["due_on"]) if ctx.data.get("due_on") else None,
        urgent=bool(ctx.data.get("urgent")),
    )
    if finding.fixed_on_site:
        ctx.say("已登记巡查问题 {number}（现场整改，已验证）。", number=finding.number)
    elif to_repair:
        ticket = work_orders.to_work_order(
            session=ctx.session,
            finding_id=finding.id,
            actor=ctx.me,
            category=RepairCategory(ctx.data["repair_category"]),
        )
        ctx.say(
            "已登记巡查问题 {number}，并转为维修单 {ticket}，按报修派单处理；完工后请现场验证。",
            number=finding.number,
            ticket=ticket.number,
        )
    else:
        ctx.say(
            "已登记巡查问题 {number}，已通知{department}，整改期限 {due_on}。",
            number=finding.number,
            department=finding.department.name if finding.department else "",
            due_on=day(ctx, finding.due_at),
        )
        if finding.urgent:
            ctx.say("紧急问题已通知部门主管、值班人员和项目经理。")
    return None


# What was found, after where (巡查) or which area (巡检记录): its category, the patroller's
# words and photos; then whether it was fixed on the spot ("onsite").
WHAT_WAS_FOUND: list[Step] = [
    Choose(
        "category",
        N_("问题类别："),
        [Option(c.value, PATROL_CATEGORY_LABELS[c]) for c in PatrolCategory],
        remember("category", "description", lambda key: PatrolCategory(key).value),
    ),
    AskText(
        "description",
        N_("请描述问题："),
        remember("description", "photos"),
        what=N_("问题描述"),
        max_length=2000,
    ),
    AskPhotos("photos", N_("请发送现场照片，发完点「完成」；没有点「跳过」。"), go("onsite")),
]


PATROL = Flow(
    key="patrol",
    title=N_("巡查"),
    allowed=is_staff,
    start=go("place"),
    collects_photos=True,
    steps=[
        AskPlace(
            "place",
            N_("巡查地点？（也可以发送位置）"),
            remember("place", "category"),
            what=N_("巡查地点"),
            max_length=200,
        ),
        *WHAT_WAS_FOUND,
        Choose(
            "onsite",
            N_("已经现场整改了吗？（燃气味、焦味、冒烟等请选「需紧急处理」）"),
            [YES, NO, URGENT],
            _onsite,
        ),
        Choose(
            "department",
            N_("交给哪个部门整改？公共设施损坏可转维修单。"),
            departments_or_repair,
            _department,
        ),
        Choose(
            "repair_category",
            N_("维修类别："),
            REPAIR_CATEGORIES,
            remember("repair_category", "confirm"),
        ),
        AskDate("deadline", _deadline_prompt, _deadline, quick_days=_deadline_days),
        confirm_step("confirm", _patrol_summary, _report_finding),
    ],
)


# ------------------------------------------------------------------ 现场验证


def _awaiting(ctx: Context) -> list[Option]:
    findings = patrols.awaiting_verification(
        session=ctx.session, estate_id=estate_id(ctx), fixed_before=utcnow()
    )
    me = staff(ctx)
    return [
        Option(
            str(f.id),
            f"{f.number} {f.place} · {ctx.t(PATROL_CATEGORY_LABELS[f.category])}",
            translate=False,
        )
        for f in findings
        if f.fixed_by_id != me.id  # nobody verifies their own fix (001 4.9.4)
    ]


_list_awaiting = unless_empty(_awaiting, N_("目前没有待验证的整改。"), "finding")


def _named(ctx: Context, offered: Callable[[Context], list[Option]]) -> bool:
    """Whether a notice's button (``/verify 12``, ``/rectify 12``) named a finding that is
    still ``offered``: then it is the one the flow is about. One no longer offered (fixed,
    verified or handed on meanwhile) says what it is now, and the list follows."""
    wanted = ctx.data.get("argument", "")
    if not wanted.isdigit():
        return False
    if wanted in {o.key for o in offered(ctx)}:
        ctx.data["finding_id"] = int(wanted)
        return True
    finding = ctx.session.get(PatrolFinding, int(wanted))
    if finding is not None:
        ctx.say(
            "{number} 现在{state}。",
            number=finding.number,
            state=label(FINDING_STATUS_LABELS[finding.status]),
        )
    return False


@then("finding", "verdict")
def _verify_start(ctx: Context) -> Next:
    """From the menu, the fixes waiting; from the 待现场验证 notice's button, that one."""
    return "verdict" if _named(ctx, _awaiting) else _list_awaiting(ctx)


def _verdict_prompt(ctx: Context) -> str:
    """The verifier compares what the patroller saw with what the fixer left."""
    finding = ctx.session.get_one(PatrolFinding, ctx.data["finding_id"])
    photos = tuple(a.ref for a in finding.attachments if a.kind == AttachmentKind.PHOTO)
    if photos:
        ctx.replies.append(
            Reply(ctx.t("整改前后的照片（{count} 张）：", count=len(photos)), (), photos)
        )
    return ctx.t(
        "{number} {place}：{description}\n整改：{fix}\n现场验证结果：",
        number=finding.number,
        place=finding.place,
        description=finding.description,
        fix=finding.fix_note or "",
    )


@then("verify_note", "failed_note")
def _verdict(ctx: Context, key: str) -> Next:
    # A fix that did not pass says why (001 4.9.4); one that passed may say nothing.
    ctx.data["passed"] = key == "pass"
    return "verify_note" if ctx.data["passed"] else "failed_note"


@then("verify_photos")
def _verify_note(ctx: Context, text: str) -> Next:
    ctx.data["note"] = text
    ctx.data["photos"] = []
    return "verify_photos"


@then()
def _verified(ctx: Context) -> Next:
    finding = work_orders.verify(
        session=ctx.session,
        finding_id=ctx.data["finding_id"],
        actor=ctx.me,
        passed=bool(ctx.data["passed"]),
        note=ctx.data.get("note") or None,
        photos=ctx.data.get("photos", []),
    )
    if ctx.data["passed"]:
        ctx.say("{number} 验证通过，记录已完成。", number=finding.number)
    else:
        ctx.say(
            "{number} 验证未通过，已退回{department}重新整改。",
            number=finding.number,
            department=finding.department.name if finding.department else "",
        )
    return None


VERIFY = Flow(
    key="verify",
    title=N_("现场验证"),
    allowed=lambda ctx: has_role(ctx, VERIFIER_ROLES),
    start=_verify_start,
    steps=[
        Choose(
            "finding", N_("待验证的整改："), _awaiting, remember("finding_id", "verdict", chosen_id)
        ),
        Choose(
            "verdict",
            _verdict_prompt,
            [Option("pass", N_("通过")), Option("fail", N_("不通过"))],
            _verdict,
        ),
        AskText(
            "verify_note",
            N_("验证意见（可跳过）："),
            _verify_note,
            what=N_("验证意见"),
            max_length=500,
            skippable=True,
        ),
        AskText(
            "failed_note",
            N_("请写明问题所在："),
            _verify_note,
            what=N_("验证意见"),
            max_length=500,
        ),
        AskPhotos(
            "verify_photos", N_("请发送现场照片，发完点「完成」；没有点「跳过」。"), _verified
        ),
    ],
)


# ------------------------------------------------------------------ 申请延期


def _extendable(ctx: Context) -> list[Option]:
    return [
        Option(
            str(f.id),
            ctx.t(
                "{number} {place} · 期限 {due_on}",
                number=f.number,
                place=f.place,
                due_on=day(ctx, f.due_at),
            ),
            translate=False,
        )
        for f in patrols.open_for_department(session=ctx.session, staff=staff(ctx))
    ]


def _extension_days(ctx: Context) -> tuple[int, ...]:
    """The days that may be asked for: later than the deadline it has, within the cap."""
    finding = ctx.session.get_one(PatrolFinding, ctx.data["finding_id"])
    today = ctx.today()
    return tuple(
        (chosen - today).days for chosen in patrols.extension_choices(finding, today, ctx.settings)
    )


def _extension_prompt(ctx: Context) -> str:
    finding = ctx.session.get_one(PatrolFinding, ctx.data["finding_id"])
    return ctx.t(
        "{number} 现期限 {due_on}，延期到哪一天？（最晚 {limit}）",
        number=finding.number,
        due_on=day(ctx, finding.due_at),
        limit=patrols.extension_limit(finding, ctx.settings).isoformat(),
    )


_list_extendable = unless_empty(_extendable, N_("您的部门目前没有待整改的巡查问题。"), "finding")


@then("finding", "new_due")
def _extension_start(ctx: Context) -> Next:
    """From 整改's 申请延期, that finding; from the menu, the department's open ones."""
    return "new_due" if _named(ctx, _extendable) else _list_extendable(ctx)


@then("why")
def _new_due(ctx: Context, new_due_on: date) -> Next:
    # Checked here, where the date is asked: a reason typed after a wrong date is not lost.
    patrols.check_extension(
        session=ctx.session, finding_id=ctx.data["finding_id"], new_due_on=new_due_on
    )
    ctx.data["due_on"] = new_due_on.isoformat()
    return "why"


@then()
def _why(ctx: Context, text: str) -> Next:
    request = patrols.request_extension(
        session=ctx.session,
        finding_id=ctx.data["finding_id"],
        actor=ctx.me,
        new_due_on=date.fromisoformat(ctx.data["due_on"]),
        reason=text,
    )
    ctx.say(
        "已提交 {number} 延期至 {due_on} 的申请，等待部门主管或项目经理审批。",
        number=request.finding.number,
        due_on=ctx.data["due_on"],
    )
    return None


EXTENSION = Flow(
    key="extension",
    title=N_("申请延期"),
    allowed=is_staff,
    start=_extension_start,
    steps=[
        Choose(
            "finding",
            N_("哪个问题需要延期？"),
            _extendable,
            remember("finding_id", "new_due", chosen_id),
        ),
        AskDate("new_due", _extension_prompt, _new_due, quick_days=_extension_days),
        AskText("why", N_("延期原因："), _why, what=N_("延期原因"), max_length=500),
    ],
)


# ------------------------------------------------------------------ 延期审批


def _requests(ctx: Context) -> list[Option]:
    return [
        Option(
            str(r.id),
            ctx.t(
                "{number} {place}：{who} 申请延至 {new_due}（现期限 {due_on}）：{reason}",
                number=r.finding.number,
                place=r.finding.place,
                who=r.requested_by.person.name,
                new_due=r.new_due_on.isoformat(),
                due_on=day(ctx, r.finding.due_at),
                reason=r.reason,
            ),
            translate=False,
        )
        for r in patrols.pending_extensions(
            session=ctx.session, estate_id=estate_id(ctx), decider=staff(ctx)
        )
    ]


APPROVE = Option("approve", N_("批准"))
REFUSE = Option("refuse", N_("驳回"))


def _decision_options(ctx: Context) -> list[Option]:
    """批准 while the finding is open and the day asked is later than its deadline (since
    the request it may have been fixed, or extended); 驳回 always."""
    request = ctx.session.get_one(ExtensionRequest, ctx.data["request_id"])
    finding = request.finding
    approvable = (
        finding.status is FindingStatus.OPEN
        and finding.due_at is not None
        and date.fromisoformat(day(ctx, finding.due_at))
        < request.new_due_on
        <= patrols.extension_limit(finding, ctx.settings)
    )
    return [APPROVE, REFUSE] if approvable else [REFUSE]


@then("opinion", "refusal")
def _decision(ctx: Context, key: str) -> Next:
    # Refusing needs a reason; approving may go without a word.
    ctx.data["approve"] = key == "approve"
    return "opinion" if ctx.data["approve"] else "refusal"


@then()
def _opinion(ctx: Context, text: str) -> Next:
    request = patrols.decide_extension(
        session=ctx.session,
        request_id=ctx.data["request_id"],
        actor=ctx.me,
        approve=bool(ctx.data["approve"]),
        note=text or None,
    )
    if ctx.data["approve"]:
        ctx.say(
            "已批准 {number} 延期至 {due_on}。",
            number=request.finding.number,
            due_on=request.new_due_on.isoformat(),
        )
        ctx.say("已通知申请人 {who}。", who=request.requested_by.person.name)
    else:
        ctx.say("已驳回 {number} 的延期申请，已通知申请人。", number=request.finding.number)
    return None


_list_requests = unless_empty(_requests, N_("目前没有待审批的延期申请。"), "request")


@then("request", "refusal")
def _approvals_start(ctx: Context) -> Next:
    """From the menu, the pending requests; from a notice's 批准 or 驳回, that request at
    once: approved there, or asked why when refused. A request decided meanwhile says by
    whom and when."""
    wanted, _, decision = ctx.data.get("argument", "").partition(" ")
    if not wanted.isdigit() or decision not in ("approve", "refuse"):
        return _list_requests(ctx)
    ctx.data["request_id"] = int(wanted)
    if decision == "refuse":
        patrols.check_undecided(session=ctx.session, request_id=int(wanted), actor=ctx.me)
        ctx.data["approve"] = False
        return "refusal"
    ctx.data["approve"] = True
    return _opinion(ctx, "")


APPROVALS = Flow(
    key="approvals",
    title=N_("延期审批"),
    allowed=lambda ctx: has_role(ctx, MANAGER_ROLES),
    start=_approvals_start,
    steps=[
        Choose(
            "request",
            N_("待审批的延期申请："),
            _requests,
            remember("request_id", "decision", chosen_id),
        ),
        Choose(
            "decision",
            N_("审批结果："),
            _decision_options,
            _decision,
        ),
        AskText(
            "opinion",
            N_("审批意见（可跳过）："),
            _opinion,
            what=N_("审批意见"),
            max_length=500,
            skippable=True,
        ),
        AskText(
            "refusal",
            N_("驳回原因："),
            _opinion,
            what=N_("审批意见"),
            max_length=500,
        ),
    ],
)


# ------------------------------------------------------------------ 整改


def _held(ctx: Context) -> list[Option]:
    return [
        Option(
            str(f.id),
            ctx.t(
                "{number} {place} · {category} · 期限 {due_on}",
                number=f.number,
                place=f.place,
                category=label(PATROL_CATEGORY_LABELS[f.category]),
                due_on=day(ctx, f.due_at),
            )
            + (
                ""
                if f.status is FindingStatus.OPEN
                else " · " + ctx.t(FINDING_STATUS_LABELS[f.status])
            ),
            translate=False,
        )
        for f in patrols.held_by(session=ctx.session, staff=staff(ctx))
    ]


_list_held = unless_empty(_held, N_("目前没有需要您部门整改的巡查问题。"), "finding")


@then("finding", "action")
def _rectify_start(ctx: Context) -> Next:
    """From a notice's 整改, that finding; from the menu, what the department holds."""
    return "action" if _named(ctx, _held) else _list_held(ctx)


FIXED = Option("fixed", N_("已整改"))
WORK_ORDER = Option("work_order", N_("转维修单"))
HAND_BACK = Option("hand_back", N_("退回（不属本部门）"))
REDIRECT = Option("redirect", N_("改派部门"))


def _finding(ctx: Context) -> PatrolFinding:
    return ctx.session.get_one(PatrolFinding, ctx.data["finding_id"])


def _actions(ctx: Context) -> list[Option]:
    """What the holder may do from the finding's state: the department fixes it, makes it
    a work order, asks for more time or hands it back; the desk sends a handed-back one on."""
    finding = _finding(ctx)
    me = staff(ctx)
    if not patrols.holds(me, finding):
        return []
    has_order = work_orders.work_order(session=ctx.session, finding=finding)
    unfinished = has_order is not None and has_order.status in WORK_UNFINISHED
    if finding.status is FindingStatus.RETURNED:
        return [REDIRECT, WORK_ORDER]
    actions = [] if unfinished else [FIXED]
    if not unfinished:
        actions.append(WORK_ORDER)
    actions.append(Option(f"/extension {finding.id}", N_("申请延期")))
    if not unfinished and finding.department_id == me.department_id:
        actions.append(HAND_BACK)
    return actions


def _action_prompt(ctx: Context) -> str:
    """The finding as the patroller saw it, with its photos and every step so far."""
    finding = _finding(ctx)
    photos = notices.photos_of(finding)
    if photos:
        ctx.replies.append(Reply(ctx.t("巡查照片（{count} 张）：", count=len(photos)), (), photos))
    lines = [
        ctx.t(
            "{number} {place}\n类别：{category}\n{description}\n发现人：{reporter}\n"
            "责任部门：{department}\n整改期限：{due_on}",
            number=finding.number,
            place=finding.place,
            category=label(PATROL_CATEGORY_LABELS[finding.category]),
            description=finding.description,
            reporter=finding.reporter.person.name,
            department=finding.department.name if finding.department else "",
            due_on=day(ctx, finding.due_at),
        )
    ]
    if finding.return_reason:
        lines.append(ctx.t("退回原因：{reason}", reason=finding.return_reason))
    order = work_orders.work_order(session=ctx.session, finding=finding)
    if order is not None:
        lines.append(
            ctx.t(
                "维修单：{number}（{status}）",
                number=order.number,
                status=label(order.status_label),
            )
        )
    lines.append(ctx.t("处理记录："))
    lines += [
        f"· {when(ctx, event.at)} {event.actor_label}：{event.note or ''}"
        for event in patrols.history(session=ctx.session, finding=finding)
    ]
    if not _actions(ctx):
        lines.append(ctx.t("维修单完工后会通知现场验证。"))
    return "\n".join(lines)


@then("fix_note", "repair_category", "return_reason", "redirect")
def _action(ctx: Context, key: str) -> Next:
    return {
        FIXED.key: "fix_note",
        WORK_ORDER.key: "repair_category",
        HAND_BACK.key: "return_reason",
        REDIRECT.key: "redirect",
    }[key]


@then("fix_photos")
def _fix_note(ctx: Context, text: str) -> Next:
    ctx.data["note"] = text
    ctx.data["photos"] = []
    return "fix_photos"


@then()
def _fixed(ctx: Context) -> Next:
    finding = patrols.fix(
        session=ctx.session,
        finding_id=ctx.data["finding_id"],
        actor=ctx.me,
        note=ctx.data["note"],
        photos=ctx.data.get("photos", []),
    )
    asked = patrols.verifiers(session=ctx.session, finding=finding)
    ctx.say(
        "{number} 已登记整改，已请 {who} 现场验证。",
        number=finding.number,
        who="、".join(p.name for p in asked),
    )
    return None


@then()
def _work_order(ctx: Context, key: str) -> Next:
    ticket = work_orders.to_work_order(
        session=ctx.session,
        finding_id=ctx.data["finding_id"],
        actor=ctx.me,
        category=RepairCategory(key),
    )
    ctx.say(
        "已转为维修单 {ticket}，按报修派单处理；完工后巡查问题进入现场验证。",
        ticket=ticket.number,
    )
    return None


@then()
def _hand_back(ctx: Context, text: str) -> Next:
    finding = patrols.hand_back(
        session=ctx.session, finding_id=ctx.data["finding_id"], actor=ctx.me, reason=text
    )
    ctx.say("{number} 已退回客服中心改派。", number=finding.number)
    return None


@then()
def _redirect(ctx: Context, key: str) -> Next:
    finding = patrols.redirect(
        session=ctx.session,
        finding_id=ctx.data["finding_id"],
        actor=ctx.me,
        department_id=chosen_id(key),
    )
    ctx.say(
        "{number} 已改派{department}，整改期限 {due_on}。",
        number=finding.number,
        department=finding.department.name if finding.department else "",
        due_on=day(ctx, finding.due_at),
    )
    return None


def _other_departments(ctx: Context) -> list[Option]:
    finding = _finding(ctx)
    return [o for o in department_options(ctx) if o.key != str(finding.department_id)]


RECTIFY = Flow(
    key="rectify",
    title=N_("整改"),
    allowed=is_staff,
    start=_rectify_start,
    collects_photos=True,
    steps=[
        Choose(
            "finding", N_("待整改的巡查问题："), _held, remember("finding_id", "action", chosen_id)
        ),
        Choose("action", _action_prompt, _actions, _action),
        AskText(
            "fix_note",
            N_("整改情况（做了什么）："),
            _fix_note,
            what=N_("整改说明"),
            max_length=2000,
        ),
        AskPhotos("fix_photos", N_("请发送整改后的照片，发完点「完成」；没有点「跳过」。"), _fixed),
        Choose("repair_category", N_("维修类别："), REPAIR_CATEGORIES, _work_order),
        AskText(
            "return_reason",
            N_("退回原因（应由哪个部门处理、为什么）："),
            _hand_back,
            what=N_("退回原因"),
            max_length=500,
        ),
        Choose("redirect", N_("改派给哪个部门？"), _other_departments, _redirect),
    ],
)

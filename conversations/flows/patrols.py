"""Patrols in chat: 巡查 (a finding), 现场验证 (the patroller verifies a fix), 申请延期 (the
department asks for more time), 延期审批 (a manager decides)."""

from __future__ import annotations

from datetime import date, timedelta

from conversations.flows.common import (
    chosen_id,
    day,
    department_options,
    estate_id,
    has_role,
    is_staff,
    label,
    staff,
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
    confirm_step,
    go,
    remember,
    then,
    unless_empty,
)
from storage.attachment.models import AttachmentKind
from storage.clock import utcnow
from storage.i18n import N_
from storage.patrol import service as patrols
from storage.patrol.models import (
    PATROL_CATEGORY_LABELS,
    ExtensionRequest,
    FindingStatus,
    PatrolCategory,
    PatrolFinding,
)
from storage.people.models import MANAGER_ROLES, VERIFIER_ROLES

# ------------------------------------------------------------------ 巡查


@then("confirm", "department")
def _onsite(ctx: Context, key: str) -> Next:
    ctx.data["fixed_on_site"] = key == YES.key
    return "confirm" if key == YES.key else "department"


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
    finding = patrols.report_finding(
        session=ctx.session,
        actor=ctx.me,
        estate_id=estate_id(ctx),
        place=ctx.data["place"],
        category=PatrolCategory(ctx.data["category"]),
        description=ctx.data["description"],
        photos=ctx.data.get("photos", []),
        fixed_on_site=bool(ctx.data.get("fixed_on_site")),
        department_id=ctx.data.get("department_id"),
        due_on=date.fromisoformat(ctx.data["due_on"]) if ctx.data.get("due_on") else None,
    )
    if finding.fixed_on_site:
        ctx.say("已登记巡查问题 {number}（现场整改，已验证）。", number=finding.number)
    else:
        ctx.say(
            "已登记巡查问题 {number}，已通知{department}，整改期限 {due_on}。",
            number=finding.number,
            department=finding.department.name if finding.department else "",
            due_on=day(ctx, finding.due_at),
        )
    return None


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
        Choose("onsite", N_("已经现场整改了吗？"), [YES, NO], _onsite),
        Choose(
            "department",
            N_("交给哪个部门整改？"),
            department_options,
            remember("department_id", "deadline", chosen_id),
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


def _verdict_prompt(ctx: Context) -> str:
    """The verifier compares what the patroller saw with what the fixer left."""
    finding = ctx.session.get_one(PatrolFinding, ctx.data["finding_id"])
    photos = tuple(a.ref for a in finding.attachments if a.kind == AttachmentKind.PHOTO)
    if photos:
        ctx.replies.append(
            Reply(ctx.t("整改前后的照片（{count} 张）：", count=len(photos)), (), photos)
        )
    return ctx.t("现场验证结果：")


@then("verify_note", "failed_note")
def _verdict(ctx: Context, key: str) -> Next:
    # A fix that did not pass says why (001 4.9.4); one that passed may say nothing.
    ctx.data["passed"] = key == "pass"
    return "verify_note" if ctx.data["passed"] else "failed_note"


@then()
def _verify_note(ctx: Context, text: str) -> Next:
    finding = patrols.verify(
        session=ctx.session,
        finding_id=ctx.data["finding_id"],
        actor=ctx.me,
        passed=bool(ctx.data["passed"]),
        note=text or None,
    )
    if ctx.data["passed"]:
        ctx.say("{number} 验证通过，记录已完成。", number=finding.number)
    else:
        ctx.say("{number} 验证未通过，已退回整改并通知整改人。", number=finding.number)
    return None


VERIFY = Flow(
    key="verify",
    title=N_("现场验证"),
    allowed=lambda ctx: has_role(ctx, VERIFIER_ROLES),
    start=unless_empty(_awaiting, N_("目前没有待验证的整改。"), "finding"),
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
    """A week, two weeks and a month from today: those later than the deadline it has."""
    finding = ctx.session.get_one(PatrolFinding, ctx.data["finding_id"])
    today = ctx.today()
    due_on = date.fromisoformat(day(ctx, finding.due_at)) if finding.due_at else today
    return tuple(days for days in (7, 14, 30) if today + timedelta(days=days) > due_on)


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
        "已提交 {number} 延期至 {due_on} 的申请，等待经理或主管审批。",
        number=request.finding.number,
        due_on=ctx.data["due_on"],
    )
    return None


EXTENSION = Flow(
    key="extension",
    title=N_("申请延期"),
    allowed=is_staff,
    start=unless_empty(_extendable, N_("您的部门目前没有待整改的巡查问题。"), "finding"),
    steps=[
        Choose(
            "finding",
            N_("哪个问题需要延期？"),
            _extendable,
            remember("finding_id", "new_due", chosen_id),
        ),
        AskDate("new_due", N_("延期到哪一天？"), _new_due, quick_days=_extension_days),
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
        for r in patrols.pending_extensions(session=ctx.session, estate_id=estate_id(ctx))
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
        and request.new_due_on > date.fromisoformat(day(ctx, finding.due_at))
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

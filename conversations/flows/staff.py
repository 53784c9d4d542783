"""What staff do: 巡查, 维修工单, 回访, 现场验证, 投诉处理, 申请延期, 派单, 绑定审核."""

from __future__ import annotations

from datetime import date, timedelta

from conversations.flows.common import (
    chosen_id,
    day,
    estate_id,
    has_role,
    is_staff,
    label,
    staff,
    ticket_label,
    ticket_options,
    when,
)
from conversations.steps import (
    NO,
    YES,
    AskDate,
    AskPhotos,
    AskText,
    Choose,
    Context,
    Flow,
    Next,
    Option,
    confirm_step,
    remember,
    unless_empty,
)
from storage.callback import service as callbacks
from storage.callback.models import SATISFACTION_LABELS, Satisfaction
from storage.clock import utcnow
from storage.errors import InvalidInput
from storage.i18n import N_
from storage.identity import service as identity
from storage.patrol import service as patrols
from storage.patrol.models import PATROL_CATEGORY_LABELS, PatrolCategory
from storage.people import service as people
from storage.people.models import DESK_ROLES, ROLE_LABELS, VERIFIER_ROLES
from storage.ticket import service as tickets
from storage.ticket.models import TicketStatus

# ------------------------------------------------------------------ 巡查


class _PlaceOrLocation(AskText):
    def take(self, ctx: Context) -> Next:
        if ctx.incoming.location is not None:
            return self.then(ctx, ctx.incoming.location.describe())
        return super().take(ctx)


def _onsite(ctx: Context, key: str) -> Next:
    ctx.data["fixed_on_site"] = key == YES.key
    return "confirm" if key == YES.key else "department"


def _department_options(ctx: Context) -> list[Option]:
    return [
        Option(str(d.id), d.name, translate=False)
        for d in people.departments(session=ctx.session, estate_id=estate_id(ctx))
    ]


def _deadline(ctx: Context, due_on: date) -> Next:
    longest = ctx.today() + timedelta(days=ctx.settings.patrol_fix_days)
    if due_on > longest:
        raise InvalidInput(
            "整改期限最长 {days} 天，更长需经理或主管批准延期", days=ctx.settings.patrol_fix_days
        )
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
    names = {o.key: o.label for o in _department_options(ctx)}
    return (
        lines
        + "\n"
        + ctx.t(
            "责任部门：{department}\n整改期限：{due_on}",
            department=names.get(str(ctx.data["department_id"]), ""),
            due_on=ctx.data["due_on"],
        )
    )


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
    start=lambda ctx: "place",
    collects_photos=True,
    steps=[
        _PlaceOrLocation(
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
        AskPhotos(
            "photos", N_("请发送现场照片，发完点「完成」；没有点「跳过」。"), lambda ctx: "onsite"
        ),
        Choose("onsite", N_("已经现场整改了吗？"), [YES, NO], _onsite),
        Choose(
            "department",
            N_("交给哪个部门整改？"),
            _department_options,
            remember("department_id", "deadline", chosen_id),
        ),
        AskDate(
            "deadline", N_("整改期限？（默认 7 天，最长 7 天）"), _deadline, quick_days=(1, 3, 7)
        ),
        confirm_step("confirm", _patrol_summary, _report_finding),
    ],
)


# ------------------------------------------------------------------ 维修工单


def _order_options(ctx: Context) -> list[Option]:
    return ticket_options(ctx, tickets.work_orders(session=ctx.session, staff=staff(ctx)))


def _action_prompt(ctx: Context) -> str:
    ticket = tickets.get_ticket(session=ctx.session, ticket_id=ctx.data["ticket_id"], viewer=ctx.me)
    lines = [ticket_label(ctx, ticket), ticket.description]
    if ticket.preferred_time:
        lines.append(ctx.t("预约时间：{time}", time=ticket.preferred_time))
    if ticket.contact_phone:
        lines.append(ctx.t("联系电话：{phone}", phone=ticket.contact_phone))
    if ticket.due_at:
        lines.append(ctx.t("期限：{due}", due=when(ctx, ticket.due_at)))
    return "\n".join(lines)


def _action_options(ctx: Context) -> list[Option]:
    ticket = tickets.get_ticket(session=ctx.session, ticket_id=ctx.data["ticket_id"], viewer=ctx.me)
    if ticket.status is TicketStatus.DISPATCHED:
        return [Option("accept", N_("接单")), Option("back", N_("返回"))]
    return [Option("finish", N_("完工")), Option("back", N_("返回"))]


def _action(ctx: Context, key: str) -> Next:
    if key == "accept":
        ticket = tickets.accept(session=ctx.session, ticket_id=ctx.data["ticket_id"], actor=ctx.me)
        ctx.say("已接单 {number}。完工后在「维修工单」中登记完工。", number=ticket.number)
        return None
    if key == "finish":
        return "note"
    return None


def _finish(ctx: Context) -> Next:
    ticket = tickets.finish_repair(
        session=ctx.session,
        ticket_id=ctx.data["ticket_id"],
        actor=ctx.me,
        note=ctx.data["note"],
        photos=ctx.data.get("photos", []),
    )
    callback = callbacks.pending_for_ticket(session=ctx.session, ticket_id=ticket.id)
    ctx.say(
        "{number} 已完工，已通知业主。回访期限 {due_on}。",
        number=ticket.number,
        due_on=day(ctx, callback.due_at if callback else None),
    )
    return None


ORDERS = Flow(
    key="orders",
    title=N_("维修工单"),
    allowed=is_staff,
    start=unless_empty(_order_options, N_("目前没有待处理的工单。"), "order"),
    collects_photos=True,
    steps=[
        Choose(
            "order",
            N_("您的工单（含部门待接的）："),
            _order_options,
            remember("ticket_id", "action", chosen_id),
        ),
        Choose("action", _action_prompt, _action_options, _action),
        AskText(
            "note",
            N_("请填写完工说明："),
            remember("note", "done_photos"),
            what=N_("完工说明"),
            max_length=1000,
        ),
        AskPhotos(
            "done_photos",
            N_("请上传完工照片，发完点「完成」；没有点「跳过」。"),
            lambda ctx: "confirm",
        ),
        confirm_step(
            "confirm", lambda ctx: ctx.t("确认登记完工：{note}", note=ctx.data["note"]), _finish
        ),
    ],
)


# ------------------------------------------------------------------ 回访


def _callback_options(ctx: Context) -> list[Option]:
    now = utcnow()
    options = []
    for c in callbacks.pending(session=ctx.session, estate_id=estate_id(ctx)):
        late = ctx.t("（已逾期）") if c.due_at <= now else ""
        text = ctx.t(
            "{ticket} 回访期限 {due_on}{late}",
            ticket=ticket_label(ctx, c.ticket),
            due_on=day(ctx, c.due_at),
            late=late,
        )
        options.append(Option(str(c.id), text, translate=False))
    return options


def _result_prompt(ctx: Context) -> str:
    callback = next(
        (
            c
            for c in callbacks.pending(session=ctx.session, estate_id=estate_id(ctx))
            if c.id == ctx.data["callback_id"]
        ),
        None,
    )
    if callback is None:
        raise InvalidInput("这次回访已经记录过了")
    ticket = callback.ticket
    return ctx.t(
        "请致电 {owner}（{phone}）回访 {number}，业主的评价：",
        owner=ticket.reporter.name,
        phone=ticket.contact_phone or "—",
        number=ticket.number,
    )


def _remark(ctx: Context, text: str) -> Next:
    callbacks.record(
        session=ctx.session,
        callback_id=ctx.data["callback_id"],
        actor=ctx.me,
        satisfaction=Satisfaction(ctx.data["satisfaction"]),
        note=text or None,
    )
    if Satisfaction(ctx.data["satisfaction"]) is Satisfaction.UNSATISFIED:
        ctx.say(
            "已记录。返工单已派给原维修人员，{hours} 小时内处理。", hours=ctx.settings.rework_hours
        )
    else:
        ctx.say("已记录回访结果。")
    return None


CALLBACKS = Flow(
    key="callbacks",
    title=N_("回访"),
    allowed=lambda ctx: has_role(ctx, DESK_ROLES),
    start=unless_empty(_callback_options, N_("目前没有待回访的工单。"), "callback"),
    steps=[
        Choose(
            "callback",
            N_("待回访（最早到期的在前）："),
            _callback_options,
            remember("callback_id", "result", chosen_id),
        ),
        Choose(
            "result",
            _result_prompt,
            [Option(s.value, SATISFACTION_LABELS[s]) for s in Satisfaction],
            remember("satisfaction", "remark", lambda key: Satisfaction(key).value),
        ),
        AskText(
            "remark",
            N_("业主意见（可跳过）："),
            _remark,
            what=N_("回访意见"),
            max_length=500,
            skippable=True,
        ),
    ],
)


# ------------------------------------------------------------------ 现场验证


def _awaiting(ctx: Context) -> list[Option]:
    findings = patrols.awaiting_verification(
        session=ctx.session, estate_id=estate_id(ctx), fixed_before=utcnow()
    )
    return [
        Option(
            str(f.id),
            f"{f.number} {f.place} · {ctx.t(PATROL_CATEGORY_LABELS[f.category])}",
            translate=False,
        )
        for f in findings
    ]


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
            N_("现场验证结果："),
            [Option("pass", N_("通过")), Option("fail", N_("不通过"))],
            remember("passed", "verify_note", lambda key: key == "pass"),
        ),
        AskText(
            "verify_note",
            N_("验证意见（不通过时必填）："),
            _verify_note,
            what=N_("验证意见"),
            max_length=500,
            skippable=True,
        ),
    ],
)


# ------------------------------------------------------------------ 投诉处理


def _complaint_options(ctx: Context) -> list[Option]:
    return ticket_options(
        ctx, tickets.open_complaints(session=ctx.session, estate_id=estate_id(ctx))
    )


def _handling_prompt(ctx: Context) -> str:
    ticket = tickets.get_ticket(session=ctx.session, ticket_id=ctx.data["ticket_id"], viewer=ctx.me)
    return "\n".join(
        [
            ticket_label(ctx, ticket),
            ticket.description,
            ctx.t(
                "业主：{owner}（{phone}）",
                owner=ticket.reporter.name,
                phone=ticket.contact_phone or "—",
            ),
            ctx.t("答复期限：{due}", due=when(ctx, ticket.reply_due_at)),
        ]
    )


def _handling(ctx: Context, key: str) -> Next:
    return {"reply": "reply", "forward": "forward", "escalate": "reason"}[key]


def _reply(ctx: Context, text: str) -> Next:
    ticket = tickets.reply_complaint(
        session=ctx.session, ticket_id=ctx.data["ticket_id"], actor=ctx.me, text=text
    )
    ctx.say("已答复 {number}，业主会收到您的答复。", number=ticket.number)
    return None


def _forward(ctx: Context, key: str) -> Next:
    ticket = tickets.forward_complaint(
        session=ctx.session,
        ticket_id=ctx.data["ticket_id"],
        actor=ctx.me,
        department_id=chosen_id(key),
    )
    ctx.say(
        "已将 {number} 转至{department}。",
        number=ticket.number,
        department=ticket.department.name if ticket.department else "",
    )
    return None


def _escalate(ctx: Context, text: str) -> Next:
    ticket = tickets.escalate_complaint(
        session=ctx.session, ticket_id=ctx.data["ticket_id"], actor=ctx.me, reason=text
    )
    ctx.say("已将 {number} 升级为重大投诉，项目负责人已收到通知。", number=ticket.number)
    return None


COMPLAINTS = Flow(
    key="complaints",
    title=N_("投诉处理"),
    allowed=lambda ctx: has_role(ctx, DESK_ROLES),
    start=unless_empty(_complaint_options, N_("目前没有待答复的投诉。"), "complaint"),
    steps=[
        Choose(
            "complaint",
            N_("待答复的投诉："),
            _complaint_options,
            remember("ticket_id", "handling", chosen_id),
        ),
        Choose(
            "handling",
            _handling_prompt,
            [
                Option("reply", N_("答复业主")),
                Option("forward", N_("转部门处理")),
                Option("escalate", N_("升级为重大投诉")),
            ],
            _handling,
        ),
        AskText("reply", N_("请输入给业主的答复："), _reply, what=N_("答复内容"), max_length=2000),
        Choose("forward", N_("转给哪个部门？"), _department_options, _forward),
        AskText("reason", N_("升级原因："), _escalate, what=N_("上报原因"), max_length=500),
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
        AskDate(
            "new_due",
            N_("延期到哪一天？"),
            remember("due_on", "why", date.isoformat),
            quick_days=(7, 14, 30),
        ),
        AskText("why", N_("延期原因："), _why, what=N_("延期原因"), max_length=500),
    ],
)


# ------------------------------------------------------------------ 派单 / 改派


def _assignable(ctx: Context) -> list[Option]:
    return ticket_options(ctx, tickets.assignable(session=ctx.session, estate_id=estate_id(ctx)))


def _assignees(ctx: Context) -> list[Option]:
    return [
        Option(
            str(s.id),
            f"{s.person.name}（{s.department.name} {ctx.t(ROLE_LABELS[s.role])}）",
            translate=False,
        )
        for s in people.line_staff(session=ctx.session, estate_id=estate_id(ctx))
    ]


def _assignee(ctx: Context, key: str) -> Next:
    ticket = tickets.reassign(
        session=ctx.session,
        ticket_id=ctx.data["ticket_id"],
        actor=ctx.me,
        assignee_id=chosen_id(key),
    )
    ctx.say(
        "{number} 已派给 {name}，已通知。",
        number=ticket.number,
        name=ticket.assignee.person.name if ticket.assignee else "",
    )
    return None


ASSIGN = Flow(
    key="assign",
    title=N_("派单"),
    allowed=lambda ctx: has_role(ctx, DESK_ROLES),
    start=unless_empty(_assignable, N_("目前没有需要派单的报修。"), "ticket"),
    steps=[
        Choose(
            "ticket",
            N_("选择报修单（新单派单，已派的改派）："),
            _assignable,
            remember("ticket_id", "assignee", chosen_id),
        ),
        Choose("assignee", N_("派给谁？"), _assignees, _assignee),
    ],
)


# ------------------------------------------------------------------ 绑定审核


def _binding_options(ctx: Context) -> list[Option]:
    return [
        Option(
            str(b.id), f"{b.person.name} {b.unit_designation} · {b.platform.value}", translate=False
        )
        for b in identity.pending_bindings(session=ctx.session, estate_id=estate_id(ctx))
    ]


def _binding_decision(ctx: Context, key: str) -> Next:
    request = identity.decide_binding(
        session=ctx.session, request_id=ctx.data["request_id"], actor=ctx.me, approve=key == YES.key
    )
    ctx.say("已处理 {name} 的绑定申请。", name=request.person.name)
    return None


BINDINGS = Flow(
    key="bindings",
    title=N_("绑定审核"),
    allowed=lambda ctx: has_role(ctx, DESK_ROLES) and ctx.settings.bind_requires_approval,
    start=unless_empty(_binding_options, N_("目前没有待审核的绑定申请。"), "request"),
    steps=[
        Choose(
            "request",
            N_("待审核的绑定申请："),
            _binding_options,
            remember("request_id", "decision", chosen_id),
        ),
        Choose("decision", N_("同意绑定吗？"), [YES, NO], _binding_decision),
    ],
)

"""Complaints in chat: 投诉 (owners), 登记投诉 (the desk, for an owner), 投诉处理 (whoever holds
one: the desk, the department it was forwarded to, the leadership), offering exactly what
``storage.ticket.complaints.handlings`` allows."""

from __future__ import annotations

from datetime import datetime

from conversations.flows.common import (
    UNIT_TYPED,
    channel_of,
    chosen_id,
    estate_id,
    has_role,
    is_resident,
    label,
    owner_told,
    residents,
    ticket_label,
    ticket_options,
    unit_options,
    when,
)
from conversations.messages import Button, Reply
from conversations.steps import (
    WORDS,
    AskPhotos,
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
)
from storage.clock import utcnow
from storage.errors import InvalidInput
from storage.estate import service as estates
from storage.i18n import N_
from storage.people import privacy
from storage.people import service as people
from storage.people.models import DESK_ROLES, DepartmentKind
from storage.ticket import complaints, notices, queries
from storage.ticket.models import (
    CHANNEL_LABELS,
    DESK_CHANNELS,
    SEVERITY_LABELS,
    ComplaintSeverity,
    ReportChannel,
    Ticket,
    TicketStatus,
)

# ------------------------------------------------------------------ 投诉


@then("subject", "complaint_photos")
def _complaint_start(ctx: Context) -> Next:
    units = ctx.units()
    if len(units) == 1:
        ctx.data["unit_id"] = units[0].id
    words = ctx.data.pop(WORDS, None)
    if words:  # what they wrote before choosing 投诉 is both its subject and its account
        ctx.data["subject"], ctx.data["description"] = words[:200], words
        return "complaint_photos"
    return "subject"


LEADERSHIP = Option("leadership", N_("需要领导处理"))
BY_THE_DESK = Option("desk", N_("由客服中心处理"))
NO_UNIT = Option("none", N_("与房号无关（公共区域、服务人员等）"))


@then("complaint_unit", "confirm")
def _who_handles(ctx: Context, key: str) -> Next:
    ctx.data["leadership"] = key == LEADERSHIP.key
    return "complaint_unit" if "unit_id" not in ctx.data else "confirm"


def _complaint_units(ctx: Context) -> list[Option]:
    return [*unit_options(ctx), NO_UNIT]


@then("confirm")
def _complaint_unit(ctx: Context, key: str) -> Next:
    ctx.data["unit_id"] = None if key == NO_UNIT.key else chosen_id(key)
    return "confirm"


def _unit_of(ctx: Context) -> str:
    unit_id = ctx.data.get("unit_id")
    if unit_id is None:
        return ctx.t("与房号无关")
    return estates.get_unit(session=ctx.session, unit_id=unit_id).designation


def _complaint_summary(ctx: Context) -> str:
    return ctx.t(
        "请确认投诉：\n事由：{subject}\n内容：{description}\n房号：{unit}\n照片：{photos} 张\n"
        "处理：{handling}",
        subject=ctx.data["subject"],
        description=ctx.data["description"],
        unit=_unit_of(ctx),
        photos=len(ctx.data.get("photos", [])),
        handling=ctx.t(LEADERSHIP.label if ctx.data.get("leadership") else BY_THE_DESK.label),
    )


@then()
def _file_complaint(ctx: Context) -> Next:
    unit_id = ctx.data.get("unit_id")
    ticket = complaints.file_complaint(
        session=ctx.session,
        actor=ctx.me,
        subject=ctx.data["subject"],
        description=ctx.data["description"],
        unit_id=unit_id,
        estate_id=None if unit_id is not None else estate_id(ctx),
        place=None if unit_id is not None else ctx.t("公共区域"),
        photos=ctx.data.get("photos", []),
        leadership_requested=bool(ctx.data.get("leadership")),
        channel=channel_of(ctx),
    )
    ctx.say(
        "投诉已提交，单号 {number}。我们会在 {hours} 小时内处理，并于 {reply_due} 前答复您。",
        number=ticket.number,
        hours=ctx.settings.complaint_handle_hours,
        reply_due=when(ctx, ticket.reply_due_at),
    )
    if ticket.leadership_requested:
        ctx.say("您希望由领导处理：客服中心确认后会上报项目负责人。")
    return None


COMPLAINT = Flow(
    key="complaint",
    title=N_("投诉"),
    allowed=is_resident,
    start=_complaint_start,
    collects_photos=True,
    command=True,
    steps=[
        AskText(
            "subject",
            N_("请用一句话说明投诉事由："),
            remember("subject", "complaint_description"),
            what=N_("投诉事由"),
            max_length=200,
        ),
        AskText(
            "complaint_description",
            N_("请详细描述情况："),
            remember("description", "complaint_photos"),
            what=N_("投诉内容"),
            max_length=2000,
        ),
        AskPhotos(
            "complaint_photos",
            N_("有照片可以发送（可以多张），发完点「完成」；没有点「跳过」。"),
            go("leadership"),
        ),
        Choose(
            "leadership",
            N_("这件事需要领导处理吗？（是否为重大投诉由客服中心确认）"),
            [BY_THE_DESK, LEADERSHIP],
            _who_handles,
        ),
        Choose("complaint_unit", N_("投诉涉及哪个房号？"), _complaint_units, _complaint_unit),
        confirm_step("confirm", _complaint_summary, _file_complaint),
    ],
)


# ------------------------------------------------------------------ 登记投诉 (the desk)


def _registration_summary(ctx: Context) -> str:
    return ctx.t(
        "请确认登记投诉：\n来源：{channel}\n房号：{unit}\n投诉人：{resident}\n事由：{subject}\n"
        "内容：{description}\n照片：{photos} 张\n类别：{severity}",
        channel=label(CHANNEL_LABELS[ReportChannel(ctx.data["channel"])]),
        unit=ctx.data["unit"],
        resident=people.get_person(session=ctx.session, person_id=ctx.data["resident"]).name,
        subject=ctx.data["subject"],
        description=ctx.data["description"],
        photos=len(ctx.data.get("photos", [])),
        severity=label(SEVERITY_LABELS[ComplaintSeverity(ctx.data["severity"])]),
    )


@then()
def _register_complaint(ctx: Context) -> Next:
    ticket = complaints.file_complaint(
        session=ctx.session,
        actor=ctx.me,
        subject=ctx.data["subject"],
        description=ctx.data["description"],
        severity=ComplaintSeverity(ctx.data["severity"]),
        unit_id=ctx.data["unit_id"],
        on_behalf_of=ctx.data["resident"],
        photos=ctx.data.get("photos", []),
        channel=ReportChannel(ctx.data["channel"]),
    )
    ctx.say(
        "已登记投诉 {number}（{name}，{unit}）。{told}",
        number=ticket.number,
        name=ticket.reporter.name,
        unit=ticket.where,
        told=owner_told(ctx, ticket),
    )
    if ticket.status is TicketStatus.ESCALATED:
        ctx.say("已上报项目负责人。")
    else:
        ctx.say("需要处理时点「处理」。", [Button(f"/complaints {ticket.id}", ctx.t("处理"))])
    return None


REGISTER_COMPLAINT = Flow(
    key="register_complaint",
    title=N_("登记投诉"),
    words=(N_("投诉"),),
    allowed=lambda ctx: has_role(ctx, DESK_ROLES),
    start=go("channel"),
    collects_photos=True,
    steps=[
        Choose(
            "channel",
            N_("业主是怎么投诉的？"),
            [Option(c.value, CHANNEL_LABELS[c]) for c in DESK_CHANNELS],
            remember("channel", "unit"),
        ),
        UNIT_TYPED,
        Choose(
            "resident",
            N_("是哪位住户投诉？"),
            residents,
            remember("resident", "subject", chosen_id),
        ),
        AskText(
            "subject",
            N_("投诉事由（一句话）："),
            remember("subject", "description"),
            what=N_("投诉事由"),
            max_length=200,
        ),
        AskText(
            "description",
            N_("请记录投诉内容（书面投诉请照录或概述）："),
            remember("description", "photos"),
            what=N_("投诉内容"),
            max_length=2000,
        ),
        AskPhotos(
            "photos",
            N_("有照片或书面材料的照片就发送（可以多张），发完点「完成」；没有点「跳过」。"),
            go("severity"),
        ),
        Choose(
            "severity",
            N_("投诉类别："),
            [
                Option(ComplaintSeverity.GENERAL.value, SEVERITY_LABELS[ComplaintSeverity.GENERAL]),
                Option(ComplaintSeverity.MAJOR.value, N_("重大投诉（立即上报项目负责人）")),
            ],
            remember("severity", "confirm"),
        ),
        confirm_step("confirm", _registration_summary, _register_complaint),
    ],
)


# ------------------------------------------------------------------ 投诉处理


def _waiting(ctx: Context) -> list[Ticket]:
    return complaints.waiting_for(session=ctx.session, estate_id=estate_id(ctx), actor=ctx.me)


def _handles_complaints(ctx: Context) -> bool:
    """The desk and the leadership always; a department while a complaint waits for it."""
    post = ctx.post
    return post is not None and (complaints.is_desk(post) or bool(_waiting(ctx)))


@then("complaint", "handling")
def _complaints_start(ctx: Context) -> Next:
    wanted = ctx.data.get("argument", "")
    if wanted.isdigit():  # a notice's 处理
        complaints.in_hand(session=ctx.session, ticket_id=int(wanted), actor=ctx.me)
        ctx.data["ticket_id"] = int(wanted)
        return "handling"
    if not _waiting(ctx):
        ctx.say("目前没有待您处理的投诉。")
        return None
    return "complaint"


def _complaint_options(ctx: Context) -> list[Option]:
    return ticket_options(ctx, _waiting(ctx))


def _ticket(ctx: Context) -> Ticket:
    return queries.get_ticket(session=ctx.session, ticket_id=ctx.data["ticket_id"], viewer=ctx.me)


def _handling_prompt(ctx: Context) -> str:
    ticket = _ticket(ctx)
    lines = [
        ticket_label(ctx, ticket),
        ticket.description,
        ctx.t(
            "投诉人：{owner}（{phone}）",
            owner=ticket.reporter.name,
            phone=privacy.phone_for(session=ctx.session, viewer=ctx.me, ticket=ticket) or "—",
        ),
        ctx.t(
            "受理期限：{handle_due}　答复期限：{reply_due}",
            handle_due=when(ctx, ticket.due_at),
            reply_due=when(ctx, ticket.reply_due_at),
        ),
    ]
    if ticket.leadership_requested and ticket.severity is ComplaintSeverity.GENERAL:
        lines.append(ctx.t("业主希望由领导处理：如确为重大投诉，请「上报领导」。"))
    photos = notices.photos_of(ticket)
    if photos:
        ctx.replies.append(
            Reply(ctx.t("业主的照片（{count} 张）：", count=len(photos)), (), photos)
        )
    return "\n".join(lines)


def _handling_options(ctx: Context) -> list[Option]:
    ticket = _ticket(ctx)
    return [
        Option(h.value, complaints.HANDLING_LABELS[h])
        for h in complaints.handlings(session=ctx.session, ticket=ticket, actor=ctx.me)
    ]


@then("reply_date", "handling", "reply", "forward", "reason", "hand_back", "progress")
def _handling(ctx: Context, key: str) -> Next:
    handling = complaints.Handling(key)
    if handling is complaints.Handling.TAKE_UP:
        if _ticket(ctx).status is TicketStatus.ESCALATED:
            return "reply_date"
        return _taken_up(ctx, None)
    return {
        complaints.Handling.REPLY: "reply",
        complaints.Handling.FORWARD: "forward",
        complaints.Handling.ESCALATE: "reason",
        complaints.Handling.HAND_BACK: "hand_back",
        complaints.Handling.PROGRESS: "progress",
    }[handling]


def _taken_up(ctx: Context, reply_due_at: datetime | None) -> Next:
    ticket = complaints.take_up(
        session=ctx.session,
        ticket_id=ctx.data["ticket_id"],
        actor=ctx.me,
        reply_due_at=reply_due_at,
    )
    ctx.say(
        "已受理 {number}，请于 {reply_due} 前答复业主。",
        number=ticket.number,
        reply_due=when(ctx, ticket.reply_due_at),
    )
    return "handling"


def _reply_dates(ctx: Context) -> list[Option]:
    ticket = _ticket(ctx)
    found = complaints.reply_date_choices(ticket, utcnow())
    return [
        Option(
            moment.isoformat(),
            ctx.t("{day}（默认）", day=when(ctx, moment)) if i == 0 else when(ctx, moment),
            translate=False,
        )
        for i, moment in enumerate(found)
    ]


@then("handling")
def _reply_date(ctx: Context, key: str) -> Next:
    try:
        moment = datetime.fromisoformat(key)
    except ValueError:
        raise InvalidInput("请从列表中选择答复日期") from None
    return _taken_up(ctx, moment)


@then()
def _reply(ctx: Context, text: str) -> Next:
    ticket = complaints.reply_complaint(
        session=ctx.session, ticket_id=ctx.data["ticket_id"], actor=ctx.me, text=text
    )
    ctx.say("已答复 {number}，业主会收到您的答复；回访会按期提醒。", number=ticket.number)
    return None


@then()
def _forward(ctx: Context, key: str) -> Next:
    ticket = complaints.forward_complaint(
        session=ctx.session,
        ticket_id=ctx.data["ticket_id"],
        actor=ctx.me,
        department_id=chosen_id(key),
    )
    ctx.say(
        "已将 {number} 转至{department}，已通知该部门。",
        number=ticket.number,
        department=ticket.department.name if ticket.department else "",
    )
    return None


def _forward_options(ctx: Context) -> list[Option]:
    """The departments that do the work: not the one it is with, the desk or the office."""
    ticket = _ticket(ctx)
    return [
        Option(str(d.id), d.name, translate=False)
        for d in people.departments(session=ctx.session, estate_id=ticket.estate_id)
        if d.id != ticket.department_id
        and d.kind not in (DepartmentKind.CUSTOMER_SERVICE, DepartmentKind.MANAGEMENT)
    ]


@then()
def _escalate(ctx: Context, text: str) -> Next:
    ticket = complaints.escalate_complaint(
        session=ctx.session, ticket_id=ctx.data["ticket_id"], actor=ctx.me, reason=text
    )
    ctx.say("已将 {number} 上报为重大投诉，项目负责人已收到通知。", number=ticket.number)
    return None


@then()
def _hand_back(ctx: Context, text: str) -> Next:
    ticket = complaints.hand_back(
        session=ctx.session, ticket_id=ctx.data["ticket_id"], actor=ctx.me, reason=text
    )
    if ticket.status is TicketStatus.ESCALATED:
        ctx.say("已退回 {number}，已告诉项目负责人。", number=ticket.number)
    else:
        ctx.say("已退回 {number}，已告诉客服中心。", number=ticket.number)
    return None


@then("handling")
def _progress(ctx: Context, text: str) -> Next:
    ticket = complaints.record_progress(
        session=ctx.session, ticket_id=ctx.data["ticket_id"], actor=ctx.me, note=text
    )
    ctx.say("已记录 {number} 的处理情况。", number=ticket.number)
    return "handling"


COMPLAINTS = Flow(
    key="complaints",
    title=N_("投诉处理"),
    allowed=_handles_complaints,
    start=_complaints_start,
    steps=[
        Choose(
            "complaint",
            N_("待您处理的投诉（答复期限最早的在前）："),
            _complaint_options,
            remember("ticket_id", "handling", chosen_id),
        ),
        Choose("handling", _handling_prompt, _handling_options, _handling),
        Choose(
            "reply_date", N_("请确定答复业主的日期（业主会收到通知）："), _reply_dates, _reply_date
        ),
        AskText("reply", N_("请输入给业主的答复："), _reply, what=N_("答复内容"), max_length=2000),
        Choose("forward", N_("转给哪个部门？"), _forward_options, _forward),
        AskText("reason", N_("上报原因："), _escalate, what=N_("上报原因"), max_length=500),
        AskText("hand_back", N_("退回原因："), _hand_back, what=N_("退回原因"), max_length=500),
        AskText("progress", N_("处理情况："), _progress, what=N_("处理情况"), max_length=2000),
    ],
)

"""Complaints in chat: 投诉 (owners), 投诉处理 (the desk answers, forwards or escalates)."""

from __future__ import annotations

from conversations.flows.common import (
    chosen_id,
    department_options,
    estate_id,
    has_role,
    is_resident,
    label,
    ticket_label,
    ticket_options,
    unit_options,
    when,
)
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
    unless_empty,
)
from storage.i18n import N_
from storage.people import privacy
from storage.people import service as people
from storage.people.models import DESK_ROLES
from storage.ticket import complaints, queries
from storage.ticket.lifecycle import COMPLAINT_FLOW
from storage.ticket.models import SEVERITY_LABELS, ComplaintSeverity, TicketStatus

# ------------------------------------------------------------------ 投诉


@then("subject", "complaint_photos")
def _complaint_start(ctx: Context) -> Next:
    units = people.units_of(session=ctx.session, person_id=ctx.me.id)
    if len(units) == 1:
        ctx.data["unit_id"] = units[0].id
    words = ctx.data.pop(WORDS, None)
    if words:  # what they wrote before choosing 投诉 is both its subject and its account
        ctx.data["subject"], ctx.data["description"] = words[:200], words
        return "complaint_photos"
    return "subject"


@then("complaint_unit", "confirm")
def _severity(ctx: Context, key: str) -> Next:
    ctx.data["severity"] = ComplaintSeverity(key).value
    return "complaint_unit" if not ctx.data.get("unit_id") else "confirm"


def _complaint_summary(ctx: Context) -> str:
    return ctx.t(
        "请确认投诉：\n事由：{subject}\n内容：{description}\n照片：{photos} 张\n类别：{severity}",
        subject=ctx.data["subject"],
        description=ctx.data["description"],
        photos=len(ctx.data.get("photos", [])),
        severity=label(SEVERITY_LABELS[ComplaintSeverity(ctx.data["severity"])]),
    )


@then()
def _file_complaint(ctx: Context) -> Next:
    ticket = complaints.file_complaint(
        session=ctx.session,
        actor=ctx.me,
        subject=ctx.data["subject"],
        description=ctx.data["description"],
        severity=ComplaintSeverity(ctx.data["severity"]),
        unit_id=ctx.data["unit_id"],
        photos=ctx.data.get("photos", []),
    )
    if ticket.severity is ComplaintSeverity.MAJOR:
        ctx.say(
            "投诉已受理，单号 {number}。已立即上报项目负责人，我们将于 {reply_due} 前答复您。",
            number=ticket.number,
            reply_due=when(ctx, ticket.reply_due_at),
        )
    else:
        ctx.say(
            "投诉已受理，单号 {number}。我们会在 {hours} 小时内处理，并于 {reply_due} 前答复您。",
            number=ticket.number,
            hours=ctx.settings.complaint_handle_hours,
            reply_due=when(ctx, ticket.reply_due_at),
        )
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
            go("severity"),
        ),
        Choose(
            "severity",
            N_("这件事需要项目负责人直接处理吗？"),
            [
                Option(ComplaintSeverity.GENERAL.value, N_("一般投诉")),
                Option(ComplaintSeverity.MAJOR.value, N_("重大投诉（需要项目负责人处理）")),
            ],
            _severity,
        ),
        Choose(
            "complaint_unit",
            N_("投诉涉及哪个房号？"),
            unit_options,
            remember("unit_id", "confirm", chosen_id),
        ),
        confirm_step("confirm", _complaint_summary, _file_complaint),
    ],
)


# ------------------------------------------------------------------ 投诉处理


def _complaint_options(ctx: Context) -> list[Option]:
    return ticket_options(
        ctx, queries.open_complaints(session=ctx.session, estate_id=estate_id(ctx))
    )


def _handling_prompt(ctx: Context) -> str:
    ticket = queries.get_ticket(session=ctx.session, ticket_id=ctx.data["ticket_id"], viewer=ctx.me)
    return "\n".join(
        [
            ticket_label(ctx, ticket),
            ticket.description,
            ctx.t(
                "业主：{owner}（{phone}）",
                owner=ticket.reporter.name,
                phone=privacy.phone_for(session=ctx.session, viewer=ctx.me, ticket=ticket) or "—",
            ),
            ctx.t("答复期限：{due}", due=when(ctx, ticket.reply_due_at)),
        ]
    )


# Each way of handling a complaint, and the state it moves the complaint to.
HANDLING = (
    (Option("reply", N_("答复业主")), TicketStatus.REPLIED),
    (Option("forward", N_("转部门处理")), TicketStatus.DISPATCHED),
    (Option("escalate", N_("升级为重大投诉")), TicketStatus.ESCALATED),
)


def _handling_options(ctx: Context) -> list[Option]:
    """What the complaint's state allows: a new one is forwarded (or escalated) before it
    is answered, a forwarded one is not forwarded again, a major one not escalated again."""
    ticket = queries.get_ticket(session=ctx.session, ticket_id=ctx.data["ticket_id"], viewer=ctx.me)
    return [option for option, target in HANDLING if COMPLAINT_FLOW.allows(ticket.status, target)]


@then("reply", "forward", "reason")
def _handling(ctx: Context, key: str) -> Next:
    return {"reply": "reply", "forward": "forward", "escalate": "reason"}[key]


@then()
def _reply(ctx: Context, text: str) -> Next:
    ticket = complaints.reply_complaint(
        session=ctx.session, ticket_id=ctx.data["ticket_id"], actor=ctx.me, text=text
    )
    ctx.say("已答复 {number}，业主会收到您的答复。", number=ticket.number)
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
        "已将 {number} 转至{department}。",
        number=ticket.number,
        department=ticket.department.name if ticket.department else "",
    )
    return None


@then()
def _escalate(ctx: Context, text: str) -> Next:
    ticket = complaints.escalate_complaint(
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
            _handling_options,
            _handling,
        ),
        AskText("reply", N_("请输入给业主的答复："), _reply, what=N_("答复内容"), max_length=2000),
        Choose("forward", N_("转给哪个部门？"), department_options, _forward),
        AskText("reason", N_("升级原因："), _escalate, what=N_("上报原因"), max_length=500),
    ],
)

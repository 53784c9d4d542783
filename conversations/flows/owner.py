"""What owners and residents do: 报修, 投诉, 我的工单, 回访评价."""

from __future__ import annotations

from conversations.flows.common import (
    chosen_id,
    estate_id,
    is_resident,
    is_staff,
    label,
    ticket_label,
    ticket_options,
    when,
)
from conversations.messages import Reply
from conversations.steps import (
    NO,
    YES,
    AskPhotos,
    AskText,
    Choose,
    Context,
    Flow,
    Next,
    Option,
    confirm_step,
    remember,
)
from storage.audit import service as audit
from storage.callback import rules as callback_rules
from storage.callback import service as callbacks
from storage.callback.models import SATISFACTION_LABELS, Satisfaction
from storage.errors import InvalidInput
from storage.i18n import N_
from storage.people import service as people
from storage.ticket import service as tickets
from storage.ticket.models import (
    SEVERITY_LABELS,
    STATUS_LABELS,
    ComplaintSeverity,
    RepairCategory,
    TicketKind,
    TicketStatus,
)

PUBLIC = "public"


def _place_options(ctx: Context) -> list[Option]:
    units = people.units_of(session=ctx.session, person_id=ctx.me.id)
    return [Option(str(u.id), u.designation, translate=False) for u in units] + [
        Option(PUBLIC, N_("公共区域"))
    ]


def _where(ctx: Context) -> str:
    if ctx.data.get("unit_id"):
        unit = people.units_of(session=ctx.session, person_id=ctx.me.id)
        return next((u.designation for u in unit if u.id == ctx.data["unit_id"]), "")
    return str(ctx.data.get("place", ""))


def _place(ctx: Context, key: str) -> Next:
    if key == PUBLIC:
        return "public_place"
    ctx.data["unit_id"] = chosen_id(key)
    return "description" if not ctx.data.get("description") else "photos"


def _public_place(ctx: Context, text: str) -> Next:
    ctx.data["place"] = text
    return "description" if not ctx.data.get("description") else "photos"


class _PublicPlace(AskText):
    """A place in words, or a location pin sent from the phone."""

    def take(self, ctx: Context) -> Next:
        if ctx.incoming.location is not None:
            return self.then(ctx, ctx.incoming.location.describe())
        return super().take(ctx)


# ------------------------------------------------------------------ 报修


def _repair_start(ctx: Context) -> Next:
    incoming = ctx.incoming
    if incoming.photos or incoming.voice:
        ctx.data["photos"] = list(incoming.photos)
        if incoming.voice:
            ctx.data["voice"] = incoming.voice
        if incoming.voice_text:
            ctx.data["description"] = incoming.voice_text
        return "offer"
    return "category"


def _offer(ctx: Context, key: str) -> Next:
    if key == YES.key:
        return "category"
    ctx.say("好的，照片没有保存。需要报修时发送「报修」即可。")
    return None


def _repair_summary(ctx: Context) -> str:
    category = RepairCategory(ctx.data["category"])
    return ctx.t(
        "请确认报修：\n类别：{category}\n地点：{place}\n描述：{description}\n照片：{photos} 张\n"
        "预约时间：{time}",
        category=label(category.label),
        place=_where(ctx),
        description=ctx.data["description"],
        photos=len(ctx.data.get("photos", [])),
        time=ctx.data.get("preferred_time") or ctx.t("尽快"),
    )


def _report_repair(ctx: Context) -> Next:
    unit_id = ctx.data.get("unit_id")
    ticket = tickets.report_repair(
        session=ctx.session,
        actor=ctx.me,
        category=RepairCategory(ctx.data["category"]),
        description=ctx.data["description"],
        unit_id=unit_id,
        estate_id=None if unit_id else estate_id(ctx),
        place=ctx.data.get("place"),
        photos=ctx.data.get("photos", []) + ([ctx.data["voice"]] if ctx.data.get("voice") else []),
        preferred_time=ctx.data.get("preferred_time"),
    )
    days = callback_rules.window_days(ticket, ctx.settings)
    ctx.say(
        "报修成功，单号 {number}。\n客服中心会尽快派单给工程部，维修人员上门前会联系您；"
        "紧急维修 24 小时受理。\n完工后 {days} 天内我们会回访，请您评价。\n"
        "发送「我的工单」可随时查看进度。",
        number=ticket.number,
        days=days,
    )
    return None


REPAIR = Flow(
    key="repair",
    title=N_("报修"),
    allowed=lambda ctx: is_resident(ctx) or is_staff(ctx),
    start=_repair_start,
    collects_photos=True,
    steps=[
        Choose("offer", N_("收到您的照片。要用它报修吗？"), [YES, NO], _offer),
        Choose(
            "category",
            N_("请选择报修类别："),
            [Option(c.value, c.label) for c in RepairCategory],
            remember("category", "place", lambda key: RepairCategory(key).value),
        ),
        Choose("place", N_("问题在哪里？"), _place_options, _place),
        _PublicPlace(
            "public_place",
            N_("请写明公共区域的具体位置（例如 2栋电梯厅），或发送位置："),
            _public_place,
            what=N_("地点"),
            max_length=200,
        ),
        AskText(
            "description",
            N_("请描述问题："),
            remember("description", "photos"),
            what=N_("报修内容"),
            max_length=2000,
        ),
        AskPhotos(
            "photos",
            N_("请发送照片（可以多张），发完点「完成」；没有照片点「跳过」。"),
            lambda ctx: "time",
        ),
        AskText(
            "time",
            N_("您希望什么时间上门？（例如：明天上午；可跳过）"),
            remember("preferred_time", "confirm"),
            what=N_("预约时间"),
            max_length=100,
            skippable=True,
        ),
        confirm_step("confirm", _repair_summary, _report_repair),
    ],
)


# ------------------------------------------------------------------ 投诉


def _complaint_start(ctx: Context) -> Next:
    units = people.units_of(session=ctx.session, person_id=ctx.me.id)
    if len(units) == 1:
        ctx.data["unit_id"] = units[0].id
    return "subject"


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


def _file_complaint(ctx: Context) -> Next:
    ticket = tickets.file_complaint(
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
            "投诉已受理，单号 {number}。我们会在 24 小时内处理，并于 {reply_due} 前答复您。",
            number=ticket.number,
            reply_due=when(ctx, ticket.reply_due_at),
        )
    return None


def _own_unit_options(ctx: Context) -> list[Option]:
    return [o for o in _place_options(ctx) if o.key != PUBLIC]


COMPLAINT = Flow(
    key="complaint",
    title=N_("投诉"),
    allowed=is_resident,
    start=_complaint_start,
    collects_photos=True,
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
            lambda ctx: "severity",
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
            _own_unit_options,
            remember("unit_id", "confirm", chosen_id),
        ),
        confirm_step("confirm", _complaint_summary, _file_complaint),
    ],
)


# ------------------------------------------------------------------ 我的工单


def _mine_start(ctx: Context) -> Next:
    mine = tickets.tickets_of_owner(session=ctx.session, person=ctx.me, limit=10)
    if not mine:
        ctx.say("您还没有工单。发送「报修」或「投诉」即可提交。")
        return None
    ctx.say("您最近的工单：\n{lines}", lines="\n".join(ticket_label(ctx, t) for t in mine))
    return "detail"


def _mine_options(ctx: Context) -> list[Option]:
    return ticket_options(
        ctx, tickets.tickets_of_owner(session=ctx.session, person=ctx.me, limit=10)
    )


def _detail(ctx: Context, key: str) -> Next:
    ticket = tickets.get_ticket(session=ctx.session, ticket_id=chosen_id(key), viewer=ctx.me)
    lines = [
        ticket_label(ctx, ticket),
        ticket.description,
    ]
    for event in audit.history(session=ctx.session, object_type="ticket", object_id=ticket.id):
        lines.append(f"{when(ctx, event.at)}  {ctx.t(STATUS_LABELS[TicketStatus(event.to_state)])}")
    if ticket.kind is TicketKind.REPAIR and ticket.reply_text is None and ticket.done_note:
        lines.append(ctx.t("完工说明：{note}", note=ticket.done_note))
    if ticket.reply_text:
        lines.append(ctx.t("答复：{reply}", reply=ticket.reply_text))
    ctx.replies.append(Reply("\n".join(lines)))
    return None


MINE = Flow(
    key="mine",
    title=N_("我的工单"),
    allowed=is_resident,
    start=_mine_start,
    steps=[Choose("detail", N_("选择一张查看详情："), _mine_options, _detail)],
)


# ------------------------------------------------------------------ 回访评价


def _callback_start(ctx: Context) -> Next:
    pending = callbacks.pending_for_owner(session=ctx.session, person_id=ctx.me.id)
    wanted = ctx.data.get("argument", "")
    if wanted.isdigit():
        pending = [c for c in pending if c.id == int(wanted)]
    if not pending:
        ctx.say("目前没有需要您评价的回访。")
        return None
    if len(pending) == 1:
        ctx.data["callback_id"] = pending[0].id
        return "satisfaction"
    return "which"


def _which_options(ctx: Context) -> list[Option]:
    pending = callbacks.pending_for_owner(session=ctx.session, person_id=ctx.me.id)
    return [Option(str(c.id), ticket_label(ctx, c.ticket), translate=False) for c in pending]


def _satisfaction_prompt(ctx: Context) -> str:
    pending = callbacks.pending_for_owner(session=ctx.session, person_id=ctx.me.id)
    callback = next((c for c in pending if c.id == ctx.data["callback_id"]), None)
    if callback is None:
        raise InvalidInput("这次回访已经记录过了")
    return ctx.t("您对 {ticket} 的处理满意吗？", ticket=ticket_label(ctx, callback.ticket))


def _comment(ctx: Context, text: str) -> Next:
    satisfaction = Satisfaction(ctx.data["satisfaction"])
    callbacks.record(
        session=ctx.session,
        callback_id=ctx.data["callback_id"],
        actor=ctx.me,
        satisfaction=satisfaction,
        note=text or None,
    )
    if satisfaction is Satisfaction.UNSATISFIED:
        ctx.say(
            "非常抱歉！我们已安排维修人员返工，{hours} 小时内处理，并会再次回访。",
            hours=ctx.settings.rework_hours,
        )
    else:
        ctx.say("感谢您的评价！")
    return None


CALLBACK = Flow(
    key="callback",
    title=N_("回访评价"),
    allowed=is_resident,
    start=_callback_start,
    steps=[
        Choose(
            "which",
            N_("请选择要评价的工单："),
            _which_options,
            remember("callback_id", "satisfaction", chosen_id),
        ),
        Choose(
            "satisfaction",
            _satisfaction_prompt,
            [Option(s.value, SATISFACTION_LABELS[s]) for s in Satisfaction],
            remember("satisfaction", "comment", lambda key: Satisfaction(key).value),
        ),
        AskText(
            "comment",
            N_("还有什么想告诉我们的吗？（可跳过）"),
            _comment,
            what=N_("回访意见"),
            max_length=500,
            skippable=True,
        ),
    ],
)

"""Repairs in chat: 报修 (owners, and staff for a public place), 维修工单 (the technician's
orders: accept, finish), 派单 (the desk dispatches or re-assigns)."""

from __future__ import annotations

from collections.abc import Callable

from conversations.flows.common import (
    UNIT_TYPED,
    channel_of,
    chosen_id,
    day,
    estate_id,
    has_role,
    is_resident,
    is_staff,
    label,
    owner_told,
    residents,
    staff,
    ticket_label,
    ticket_options,
    unit_options,
    waited,
    when,
)
from conversations.messages import Button, Reply
from conversations.steps import (
    CONFIRM,
    NO,
    WORDS,
    YES,
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
from storage.announcement import service as announcements
from storage.announcement.models import ANNOUNCEMENT_KIND_LABELS, Announcement
from storage.audit import service as audit
from storage.callback import rules as callback_rules
from storage.callback import service as callbacks
from storage.clock import format_local, utcnow
from storage.duty import service as duty
from storage.estate import service as estates
from storage.i18n import N_
from storage.people import privacy
from storage.people import service as people
from storage.people.models import DESK_ROLES, ROLE_LABELS
from storage.ticket import notices, queries, repairs
from storage.ticket.models import (
    CHANNEL_LABELS,
    DESK_CHANNELS,
    STATUS_LABELS,
    RepairCategory,
    ReportChannel,
    Ticket,
    TicketKind,
    TicketStatus,
)

PUBLIC = "public"


def _place_options(ctx: Context) -> list[Option]:
    return [*unit_options(ctx), Option(PUBLIC, N_("公共区域"))]


def _where(ctx: Context) -> str:
    if ctx.data.get("unit_id"):
        units = ctx.units()
        return next((u.designation for u in units if u.id == ctx.data["unit_id"]), "")
    return str(ctx.data.get("place", ""))


def _after_the_place(ctx: Context) -> Next:
    # A voice note's words are already the description.
    return "description" if not ctx.data.get("description") else "photos"


@then("public_place", "description", "photos", "outage")
def _place(ctx: Context, key: str) -> Next:
    if key == PUBLIC:
        return "public_place"
    ctx.data["unit_id"] = chosen_id(key)
    if ctx.data.get("category") and _outages(ctx):
        return "outage"  # the building's water is off: that may be all it is
    return _after_the_place(ctx)


def _outages(ctx: Context) -> list[Announcement]:
    if not ctx.data.get("unit_id"):
        return []
    unit = estates.get_unit(session=ctx.session, unit_id=ctx.data["unit_id"])
    return announcements.outages_for(session=ctx.session, unit=unit, category=ctx.data["category"])


def _outage_prompt(ctx: Context) -> str:
    lines = [
        ctx.t(
            "{where}正在{kind}：{title}，预计 {ends} 恢复。",
            where=announcements.places([outage]),
            kind=ctx.t(ANNOUNCEMENT_KIND_LABELS[outage.kind]),
            title=outage.title,
            ends=format_local(outage.ends_at, ctx.settings.tz),
        )
        for outage in _outages(ctx)
    ]
    lines.append(ctx.t("如果您的问题是因此引起的，恢复后仍有问题再报修即可。仍要现在报修吗？"))
    return "\n".join(lines)


GO_ON, NOT_NOW = "go_on", "not_now"


@then("description", "photos")
def _outage(ctx: Context, key: str) -> Next:
    if key == GO_ON:
        return _after_the_place(ctx)
    ctx.say("好的，没有提交报修。恢复供应后如仍有问题，发送「报修」即可。")
    return None


@then("description", "photos")
def _public_place(ctx: Context, text: str) -> Next:
    ctx.data["place"] = text
    return _after_the_place(ctx)


# ------------------------------------------------------------------ 报修


@then("offer", "category")
def _repair_start(ctx: Context) -> Next:
    incoming = ctx.incoming
    words = ctx.data.pop(WORDS, None)
    if words:  # what they wrote before choosing 报修 is the description
        ctx.data["description"] = words
        return "category"
    if incoming.photos or incoming.voice:
        ctx.data["photos"] = list(incoming.photos)
        if incoming.voice:
            ctx.data["voice"] = incoming.voice
        if incoming.voice_text:
            ctx.data["description"] = incoming.voice_text
        return "offer"
    return "category"


@then("category")
def _offer(ctx: Context, key: str) -> Next:
    if key == YES.key:
        return "category"
    ctx.say("好的，照片没有保存。需要报修时发送「报修」即可。")
    return None


def _urgent(ctx: Context) -> bool:
    category = RepairCategory(ctx.data["category"])
    return repairs.is_urgent(category, bool(ctx.data.get("urgent")), ctx.settings)


def _repair_summary(ctx: Context) -> str:
    category = RepairCategory(ctx.data["category"])
    return ctx.t(
        "请确认报修：\n类别：{category}\n地点：{place}\n描述：{description}\n照片：{photos} 张\n"
        "预约时间：{time}\n紧急程度：{urgency}",
        category=label(category.label),
        place=_where(ctx),
        description=ctx.data["description"],
        photos=len(ctx.data.get("photos", [])),
        time=ctx.data.get("preferred_time") or ctx.t("尽快"),
        urgency=(
            ctx.t("紧急维修（{hours}小时受理）", hours=ctx.settings.emergency_repair_hours)
            if _urgent(ctx)
            else ctx.t("一般")
        ),
    )


URGENT = Option("urgent", N_("标为紧急"))
NOT_URGENT = Option("not_urgent", N_("改为一般"))


def _confirm_options(ctx: Context) -> list[Option]:
    """确认提交, the urgency (unless the category is urgent by nature), a field to change."""
    category = RepairCategory(ctx.data["category"])
    options = [CONFIRM]
    if not repairs.is_urgent(category, False, ctx.settings):
        options.append(NOT_URGENT if ctx.data.get("urgent") else URGENT)
    return [*options, *EDITS, CANCEL_OPTION]


EDITS = [
    Option("edit_category", N_("改类别")),
    Option("edit_description", N_("改描述")),
    Option("edit_time", N_("改时间")),
]
CANCEL_OPTION = Option("cancel", N_("取消"))


@then("confirm", "category", "description", "time")
def _repair_decided(ctx: Context, key: str) -> Next:
    if key == CONFIRM.key:
        return _report_repair(ctx)
    if key in (URGENT.key, NOT_URGENT.key):
        ctx.data["urgent"] = key == URGENT.key
        return "confirm"
    if key.startswith("edit_"):
        ctx.data["editing"] = True  # back to the summary once that one answer is in
        return key.removeprefix("edit_")
    ctx.say("已取消，没有保存任何内容。")
    return None


def _report_repair(ctx: Context) -> Next:
    unit_id = ctx.data.get("unit_id")
    ticket = repairs.report_repair(
        session=ctx.session,
        actor=ctx.me,
        category=RepairCategory(ctx.data["category"]),
        description=ctx.data["description"],
        unit_id=unit_id,
        estate_id=None if unit_id else estate_id(ctx),
        place=ctx.data.get("place"),
        photos=ctx.data.get("photos", []),
        voice_notes=[ctx.data["voice"]] if ctx.data.get("voice") else [],
        preferred_time=ctx.data.get("preferred_time"),
        urgent=bool(ctx.data.get("urgent")),
        channel=channel_of(ctx),
    )
    days = callback_rules.window_days(ticket, ctx.settings)
    if ticket.urgent:
        ctx.say(
            "紧急报修已受理，单号 {number}。\n已通知值班维修人员和客服中心，请保持电话畅通；"
            "接单后会告诉您谁来处理。\n完工后 {days} 天内我们会回访。",
            number=ticket.number,
            days=days,
        )
        return None
    now = utcnow()
    seen = duty.desk_sees(ticket.estate, now, ctx.settings.tz)
    if seen > now:
        ctx.say(
            "报修成功，单号 {number}。\n现在是客服中心下班时间，{opens} 上班后会派单；"
            "情况紧急请再次报修并点「标为紧急」，值班人员 {emergency_hours} 小时受理。\n"
            "完工后 {days} 天内我们会回访。发送「我的工单」可随时查看进度。",
            number=ticket.number,
            opens=when(ctx, seen),
            emergency_hours=ctx.settings.emergency_repair_hours,
            days=days,
        )
        return None
    ctx.say(
        "报修成功，单号 {number}。\n客服中心会尽快派单给工程部，维修人员上门前会联系您；"
        "紧急维修 {emergency_hours} 小时受理。\n完工后 {days} 天内我们会回访，请您评价。\n"
        "发送「我的工单」可随时查看进度。",
        number=ticket.number,
        emergency_hours=ctx.settings.emergency_repair_hours,
        days=days,
    )
    return None


def _after_edit(following: str) -> Callable[[Context], str]:
    """The next step, or the summary again when one field was being changed."""

    def next_step(ctx: Context) -> str:
        return "confirm" if ctx.data.pop("editing", False) else following

    return next_step


@then("place", "confirm")
def _category(ctx: Context, key: str) -> Next:
    ctx.data["category"] = RepairCategory(key).value
    return _after_edit("place")(ctx)


@then("photos", "confirm")
def _description(ctx: Context, text: str) -> Next:
    ctx.data["description"] = text
    return _after_edit("photos")(ctx)


@then("confirm")
def _preferred_time(ctx: Context, text: str) -> Next:
    ctx.data["preferred_time"] = text
    return "confirm"


REPAIR = Flow(
    key="repair",
    title=N_("报修"),
    allowed=lambda ctx: is_resident(ctx) or is_staff(ctx),
    start=_repair_start,
    collects_photos=True,
    starts_on_media=True,
    command=True,
    steps=[
        Choose("offer", N_("收到您的照片。要用它报修吗？"), [YES, NO], _offer),
        Choose(
            "category",
            N_("请选择报修类别："),
            [Option(c.value, c.label) for c in RepairCategory],
            _category,
        ),
        Choose("place", N_("问题在哪里？"), _place_options, _place),
        Choose(
            "outage",
            _outage_prompt,
            [Option(GO_ON, N_("仍要报修")), Option(NOT_NOW, N_("不用了，等恢复"))],
            _outage,
        ),
        AskPlace(
            "public_place",
            N_("请写明公共区域的具体位置（例如 2栋电梯厅），或发送位置："),
            _public_place,
            what=N_("地点"),
            max_length=200,
        ),
        AskText(
            "description",
            N_("请描述问题："),
            _description,
            what=N_("报修内容"),
            max_length=2000,
        ),
        AskPhotos(
            "photos",
            N_("请发送照片（可以多张），发完点「完成」；没有照片点「跳过」。"),
            go("time"),
        ),
        AskText(
            "time",
            N_("您希望什么时间上门？（例如：明天上午；可跳过）"),
            _preferred_time,
            what=N_("预约时间"),
            max_length=100,
            skippable=True,
        ),
        Choose("confirm", _repair_summary, _confirm_options, _repair_decided),
    ],
)


# ------------------------------------------------------------------ 登记报修 (the desk)


def _registration_summary(ctx: Context) -> str:
    category = RepairCategory(ctx.data["category"])
    return ctx.t(
        "请确认登记：\n来源：{channel}\n房号：{unit}\n报修人：{resident}\n类别：{category}\n"
        "描述：{description}\n照片：{photos} 张\n紧急程度：{urgency}",
        channel=label(CHANNEL_LABELS[ReportChannel(ctx.data["channel"])]),
        unit=ctx.data["unit"],
        resident=people.get_person(session=ctx.session, person_id=ctx.data["resident"]).name,
        category=label(category.label),
        description=ctx.data["description"],
        photos=len(ctx.data.get("photos", [])),
        urgency=ctx.t("紧急维修") if _urgent(ctx) else ctx.t("一般"),
    )


def _registration_options(ctx: Context) -> list[Option]:
    category = RepairCategory(ctx.data["category"])
    options = [CONFIRM]
    if not repairs.is_urgent(category, False, ctx.settings):
        options.append(NOT_URGENT if ctx.data.get("urgent") else URGENT)
    return [*options, CANCEL_OPTION]


@then("confirm")
def _registration_decided(ctx: Context, key: str) -> Next:
    if key in (URGENT.key, NOT_URGENT.key):
        ctx.data["urgent"] = key == URGENT.key
        return "confirm"
    if key != CONFIRM.key:
        ctx.say("已取消，没有保存任何内容。")
        return None
    ticket = repairs.report_repair(
        session=ctx.session,
        actor=ctx.me,
        category=RepairCategory(ctx.data["category"]),
        description=ctx.data["description"],
        unit_id=ctx.data["unit_id"],
        on_behalf_of=ctx.data["resident"],
        photos=ctx.data.get("photos", []),
        urgent=bool(ctx.data.get("urgent")),
        channel=ReportChannel(ctx.data["channel"]),
    )
    ctx.say(
        "已登记 {number}（{name}，{unit}）。{told}",
        number=ticket.number,
        name=ticket.reporter.name,
        unit=ticket.where,
        told=owner_told(ctx, ticket),
    )
    if not ticket.urgent:
        ctx.say("需要派单时点「派单」。", [Button(f"/assign {ticket.id}", ctx.t("派单"))])
    return None


REGISTER = Flow(
    key="register",
    title=N_("登记报修"),
    words=(N_("报修"),),
    allowed=lambda ctx: has_role(ctx, DESK_ROLES),
    start=go("channel"),
    collects_photos=True,
    steps=[
        Choose(
            "channel",
            N_("业主是怎么报修的？"),
            [Option(c.value, CHANNEL_LABELS[c]) for c in DESK_CHANNELS],
            remember("channel", "unit"),
        ),
        UNIT_TYPED,
        Choose(
            "resident",
            N_("是哪位住户报修？"),
            residents,
            remember("resident", "category", chosen_id),
        ),
        Choose(
            "category",
            N_("请选择报修类别："),
            [Option(c.value, c.label) for c in RepairCategory],
            remember("category", "description", lambda key: RepairCategory(key).value),
        ),
        AskText(
            "description",
            N_("请记录问题："),
            remember("description", "photos"),
            what=N_("报修内容"),
            max_length=2000,
        ),
        AskPhotos(
            "photos",
            N_("有照片就发送（可以多张），发完点「完成」；没有点「跳过」。"),
            go("confirm"),
        ),
        Choose("confirm", _registration_summary, _registration_options, _registration_decided),
    ],
)


# ------------------------------------------------------------------ 维修工单


def _order_options(ctx: Context) -> list[Option]:
    # Repairs only: a complaint forwarded to a head's department is answered in 投诉处理.
    orders = queries.work_orders(session=ctx.session, staff=staff(ctx))
    return ticket_options(ctx, [t for t in orders if t.kind is TicketKind.REPAIR])


def _action_prompt(ctx: Context) -> str:
    ticket = queries.get_ticket(session=ctx.session, ticket_id=ctx.data["ticket_id"], viewer=ctx.me)
    lines = [ticket_label(ctx, ticket), ticket.description]
    if ticket.urgent:
        lines.insert(0, ctx.t("【紧急维修】"))
    photos = notices.photos_of(ticket)
    if photos:
        # The owner's photos, above the order's details and its buttons.
        ctx.replies.append(
            Reply(ctx.t("业主的照片（{count} 张）：", count=len(photos)), (), photos)
        )
    if ticket.preferred_time:
        lines.append(ctx.t("预约时间：{time}", time=ticket.preferred_time))
    if ticket.expected_time:
        lines.append(ctx.t("预计上门：{time}", time=ticket.expected_time))
    # In full once the order is theirs: a technician of the department sees it masked
    # until they take it.
    phone = privacy.phone_for(session=ctx.session, viewer=ctx.me, ticket=ticket)
    if phone:
        lines.append(ctx.t("联系电话：{phone}", phone=phone))
    if ticket.urgent and ticket.status is TicketStatus.ACCEPTED and ticket.arrived_at is None:
        lines.append(ctx.t("须于 {due} 前到场", due=when(ctx, ticket.arrive_due_at)))
    if ticket.due_at:
        lines.append(ctx.t("期限：{due}", due=when(ctx, ticket.due_at)))
    return "\n".join(lines)


ACCEPT = Option("accept", N_("接单"))
ARRIVED = Option("arrived", N_("已到场"))
EXPECTED = Option("expected", N_("填写上门时间"))
FINISH = Option("finish", N_("完工"))
BACK = Option("back", N_("返回"))


def _action_options(ctx: Context) -> list[Option]:
    ticket = queries.get_ticket(session=ctx.session, ticket_id=ctx.data["ticket_id"], viewer=ctx.me)
    if ticket.status in (TicketStatus.NEW, TicketStatus.DISPATCHED):
        return [ACCEPT, BACK]
    # 完工 keeps its number whatever else is offered; on site, a visiting time is moot.
    if ticket.arrived_at is not None:
        return [FINISH, BACK]
    return [FINISH, *([ARRIVED] if ticket.urgent else []), EXPECTED, BACK]


def _taken(ctx: Context, ticket_id: int) -> Next:
    """接单, from 维修工单 or a notice's button; then when the technician will come."""
    ticket = repairs.take(session=ctx.session, ticket_id=ticket_id, actor=ctx.me)
    ctx.data["ticket_id"] = ticket.id
    ctx.say("已接单 {number}，已通知业主。完工后在「维修工单」中登记完工。", number=ticket.number)
    return "expected"


@then("note", "order", "expected")
def _action(ctx: Context, key: str) -> Next:
    if key == ACCEPT.key:
        return _taken(ctx, ctx.data["ticket_id"])
    if key == ARRIVED.key:
        ticket = repairs.arrive(session=ctx.session, ticket_id=ctx.data["ticket_id"], actor=ctx.me)
        ctx.say("{number} 已登记到场。", number=ticket.number)
        return None
    if key == EXPECTED.key:
        return "expected"
    if key == FINISH.key:
        return "note"
    return "order" if _order_options(ctx) else None  # 返回: the list again


@then()
def _expected(ctx: Context, text: str) -> Next:
    if not text:
        ctx.say("好的，没有填写上门时间。")
        return None
    ticket = repairs.expect(
        session=ctx.session, ticket_id=ctx.data["ticket_id"], actor=ctx.me, expected_time=text
    )
    ctx.say("已告诉业主：预计 {time} 上门（{number}）。", time=text, number=ticket.number)
    return None


EXPECTED_STEP = AskText(
    "expected",
    N_("预计什么时候上门？（例如：马上到、今晚七点前；可跳过）"),
    _expected,
    what=N_("上门时间"),
    max_length=100,
    skippable=True,
)


@then()
def _finish(ctx: Context) -> Next:
    ticket = repairs.finish_repair(
        session=ctx.session,
        ticket_id=ctx.data["ticket_id"],
        actor=ctx.me,
        note=ctx.data["note"],
        photos=ctx.data.get("photos", []),
    )
    if ticket.finding_id is not None:  # a patrol finding's work order: verified on site
        ctx.say(
            "{number} 已完工，巡查问题已请巡查人现场验证。",
            number=ticket.number,
        )
        return None
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
        EXPECTED_STEP,
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
            go("confirm"),
        ),
        confirm_step(
            "confirm", lambda ctx: ctx.t("确认登记完工：{note}", note=ctx.data["note"]), _finish
        ),
    ],
)


@then("expected")
def _take_start(ctx: Context) -> Next:
    ticket = _named_ticket(ctx)
    if ticket is None:
        return None
    if not (
        ticket.status is TicketStatus.DISPATCHED
        or (ticket.status is TicketStatus.NEW and ticket.urgent)
    ):
        _already(ctx, ticket)
        return None
    return _taken(ctx, ticket.id)


def _named_ticket(ctx: Context) -> Ticket | None:
    """The ticket a notice's button names ("/take 12")."""
    argument = str(ctx.data.get("argument", ""))
    if not argument.isdigit():
        ctx.say("请从「维修工单」中选择工单。")
        return None
    return queries.get_ticket(session=ctx.session, ticket_id=int(argument), viewer=ctx.me)


def _already(ctx: Context, ticket: Ticket) -> None:
    """A button pressed twice, or after someone else acted: who did what, when."""
    last = audit.history(session=ctx.session, object_type="ticket", object_id=ticket.id)[-1]
    ctx.say(
        "{number} 已由 {who} 于 {at} {what}，现在是「{status}」。",
        number=ticket.number,
        who=last.actor_label,
        at=when(ctx, last.at),
        what=last.note or label(STATUS_LABELS[TicketStatus(last.to_state)]),
        status=label(STATUS_LABELS[ticket.status]),
    )


TAKE = Flow(
    key="take",
    title=N_("接单"),
    allowed=is_staff,
    start=_take_start,
    listed=False,
    steps=[EXPECTED_STEP],
)


# ------------------------------------------------------------------ 派单 / 改派


def _assignable(ctx: Context) -> list[Option]:
    """Each with the start of its description and how long it has waited."""
    now = utcnow()
    return [
        Option(
            str(t.id),
            ctx.t(
                "{label} · {description} · 已等 {waited}",
                label=("🔴 " if t.urgent else "") + ticket_label(ctx, t),
                # Its first words on one line (a rework's reads 返工：… 原报修：…).
                description=" ".join(t.description.split())[:20],
                waited=waited(ctx, now - t.created_at),
            ),
            translate=False,
            also=(t.number,),
        )
        for t in queries.assignable(session=ctx.session, estate_id=estate_id(ctx))
    ]


@then("ticket", "assignee")
def _assign_start(ctx: Context) -> Next:
    if not ctx.data.get("argument"):  # from the menu: the list
        return unless_empty(_assignable, N_("目前没有需要派单的报修。"), "ticket").act(ctx)
    ticket = _named_ticket(ctx)  # from an intake alert's 派单
    if ticket is None:
        return None
    if ticket.status is not TicketStatus.NEW:
        _already(ctx, ticket)  # someone dispatched it meanwhile; 派单 from the menu re-assigns
        return None
    ctx.data["ticket_id"] = ticket.id
    return "assignee"


def _assignees(ctx: Context) -> list[Option]:
    """Who may take the order: the line staff, but not whoever holds it now."""
    holder = queries.get_ticket(
        session=ctx.session, ticket_id=ctx.data["ticket_id"], viewer=ctx.me
    ).assignee_id
    return [
        Option(
            str(s.id),
            f"{s.person.name}（{s.department.name} {ctx.t(ROLE_LABELS[s.role])}）",
            translate=False,
            also=(s.person.name,),
        )
        for s in people.line_staff(session=ctx.session, estate_id=estate_id(ctx))
        if s.id != holder
    ]


@then()
def _assignee(ctx: Context, key: str) -> Next:
    ticket = repairs.reassign(
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
    start=_assign_start,
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

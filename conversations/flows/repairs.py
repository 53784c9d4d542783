"""Repairs in chat: 报修 (owners, and staff for a public place), 维修工单 (the technician's
orders: accept, finish), 派单 (the desk dispatches or re-assigns)."""

from __future__ import annotations

from conversations.flows.common import (
    chosen_id,
    day,
    estate_id,
    has_role,
    is_resident,
    is_staff,
    label,
    staff,
    ticket_label,
    ticket_options,
    unit_options,
    when,
)
from conversations.steps import (
    NO,
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
from storage.callback import rules as callback_rules
from storage.callback import service as callbacks
from storage.i18n import N_
from storage.people import privacy
from storage.people import service as people
from storage.people.models import DESK_ROLES, ROLE_LABELS
from storage.ticket import lifecycle, queries, repairs
from storage.ticket.models import RepairCategory, TicketStatus

PUBLIC = "public"


def _place_options(ctx: Context) -> list[Option]:
    return [*unit_options(ctx), Option(PUBLIC, N_("公共区域"))]


def _where(ctx: Context) -> str:
    if ctx.data.get("unit_id"):
        units = people.units_of(session=ctx.session, person_id=ctx.me.id)
        return next((u.designation for u in units if u.id == ctx.data["unit_id"]), "")
    return str(ctx.data.get("place", ""))


def _after_the_place(ctx: Context) -> Next:
    # A voice note's words are already the description.
    return "description" if not ctx.data.get("description") else "photos"


@then("public_place", "description", "photos")
def _place(ctx: Context, key: str) -> Next:
    if key == PUBLIC:
        return "public_place"
    ctx.data["unit_id"] = chosen_id(key)
    return _after_the_place(ctx)


@then("description", "photos")
def _public_place(ctx: Context, text: str) -> Next:
    ctx.data["place"] = text
    return _after_the_place(ctx)


# ------------------------------------------------------------------ 报修


@then("offer", "category")
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


@then("category")
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


@then()
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
    )
    ctx.say(
        "报修成功，单号 {number}。\n客服中心会尽快派单给工程部，维修人员上门前会联系您；"
        "紧急维修 {emergency_hours} 小时受理。\n完工后 {days} 天内我们会回访，请您评价。\n"
        "发送「我的工单」可随时查看进度。",
        number=ticket.number,
        emergency_hours=ctx.settings.emergency_repair_hours,
        days=callback_rules.window_days(ticket, ctx.settings),
    )
    return None


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
            remember("category", "place", lambda key: RepairCategory(key).value),
        ),
        Choose("place", N_("问题在哪里？"), _place_options, _place),
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
            remember("description", "photos"),
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
            remember("preferred_time", "confirm"),
            what=N_("预约时间"),
            max_length=100,
            skippable=True,
        ),
        confirm_step("confirm", _repair_summary, _report_repair),
    ],
)


# ------------------------------------------------------------------ 维修工单


def _order_options(ctx: Context) -> list[Option]:
    return ticket_options(ctx, queries.work_orders(session=ctx.session, staff=staff(ctx)))


def _action_prompt(ctx: Context) -> str:
    ticket = queries.get_ticket(session=ctx.session, ticket_id=ctx.data["ticket_id"], viewer=ctx.me)
    lines = [ticket_label(ctx, ticket), ticket.description]
    if ticket.preferred_time:
        lines.append(ctx.t("预约时间：{time}", time=ticket.preferred_time))
    # In full once the order is theirs: a technician of the department sees it masked
    # until they take it.
    phone = privacy.phone_for(session=ctx.session, viewer=ctx.me, ticket=ticket)
    if phone:
        lines.append(ctx.t("联系电话：{phone}", phone=phone))
    if ticket.due_at:
        lines.append(ctx.t("期限：{due}", due=when(ctx, ticket.due_at)))
    return "\n".join(lines)


def _action_options(ctx: Context) -> list[Option]:
    ticket = queries.get_ticket(session=ctx.session, ticket_id=ctx.data["ticket_id"], viewer=ctx.me)
    if ticket.status is TicketStatus.DISPATCHED:
        return [Option("accept", N_("接单")), Option("back", N_("返回"))]
    return [Option("finish", N_("完工")), Option("back", N_("返回"))]


@then("note", "order")
def _action(ctx: Context, key: str) -> Next:
    if key == "accept":
        ticket = lifecycle.accept(
            session=ctx.session, ticket_id=ctx.data["ticket_id"], actor=ctx.me
        )
        ctx.say("已接单 {number}。完工后在「维修工单」中登记完工。", number=ticket.number)
        return None
    if key == "finish":
        return "note"
    return "order" if _order_options(ctx) else None  # 返回: the list again


@then()
def _finish(ctx: Context) -> Next:
    ticket = repairs.finish_repair(
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
            go("confirm"),
        ),
        confirm_step(
            "confirm", lambda ctx: ctx.t("确认登记完工：{note}", note=ctx.data["note"]), _finish
        ),
    ],
)


# ------------------------------------------------------------------ 派单 / 改派


def _assignable(ctx: Context) -> list[Option]:
    return ticket_options(ctx, queries.assignable(session=ctx.session, estate_id=estate_id(ctx)))


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

"""What several flows share: who the person is to the estate, and how things are shown."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from conversations.steps import AskText, Context, Next, Option, then
from storage.clock import format_day, format_local
from storage.errors import InvalidInput
from storage.estate import service as estates
from storage.i18n import N_, Msg
from storage.identity import service as identity
from storage.people import service as people
from storage.people.models import RELATION_LABELS, StaffMember, StaffRole
from storage.ticket.models import ReportChannel, Ticket, TicketKind


def is_resident(ctx: Context) -> bool:
    return ctx.resident


def is_staff(ctx: Context) -> bool:
    return ctx.post is not None


def has_role(ctx: Context, roles: Collection[StaffRole]) -> bool:
    post = ctx.post
    return post is not None and post.role in roles


def staff(ctx: Context) -> StaffMember:
    post = ctx.post
    if post is None:
        raise InvalidInput("只有本项目员工可以使用这个功能")
    return post


def estate_id(ctx: Context) -> int:
    """The estate a person acts in: their post's, or their first unit's."""
    if ctx.post is not None:
        return ctx.post.estate_id
    units = ctx.units()
    if not units:
        raise InvalidInput("您还没有绑定房号，请联系客服中心")
    return units[0].estate_id


def when(ctx: Context, moment: datetime | None) -> str:
    return format_local(moment, ctx.settings.tz)


def waited(ctx: Context, span: timedelta) -> str:
    """How long something has waited, as the desk says it: 25分钟, 3小时, 2天."""
    minutes = max(0, int(span.total_seconds() // 60))
    if minutes < 60:
        return ctx.t("{count}分钟", count=minutes)
    if minutes < 24 * 60:
        return ctx.t("{count}小时", count=minutes // 60)
    return ctx.t("{count}天", count=minutes // (24 * 60))


def channel_of(ctx: Context) -> ReportChannel | None:
    """The chat platform a report came by, as the ticket records it."""
    try:
        return ReportChannel(ctx.incoming.platform)
    except ValueError:
        return None


def day(ctx: Context, deadline: datetime | None) -> str:
    return format_day(deadline, ctx.settings.tz)


def ticket_label(ctx: Context, ticket: Ticket) -> str:
    what = (
        ctx.t(ticket.category.label)
        if ticket.kind is TicketKind.REPAIR and ticket.category is not None
        else (ticket.subject or "")
    )
    return f"{ticket.number} {ticket.where} {what} · {ctx.t(ticket.status_label)}"


def ticket_options(ctx: Context, tickets: list[Ticket]) -> list[Option]:
    return [Option(str(t.id), ticket_label(ctx, t), translate=False) for t in tickets]


def chosen_id(key: str) -> int:
    if not key.isdigit():
        raise InvalidInput("请从列表中选择")
    return int(key)


def label(text: str) -> Msg:
    """A stored zh-Hans label (category, status) to be shown in the reader's language."""
    return Msg(text)


def department_options(ctx: Context) -> list[Option]:
    return [
        Option(str(d.id), d.name, translate=False)
        for d in people.departments(session=ctx.session, estate_id=estate_id(ctx))
    ]


def unit_options(ctx: Context) -> list[Option]:
    """The units the person lives in, to choose from."""
    return [Option(str(u.id), u.designation, translate=False) for u in ctx.units()]


# ------------------------------------------------------------ the desk registers for an owner


@then("resident")
def unit_typed(ctx: Context, text: str) -> Next:
    """The desk types the unit (电话、来访、书面): one with residents, to choose the one."""
    unit = estates.find_unit(session=ctx.session, estate_id=estate_id(ctx), designation=text)
    if not people.residents_of(session=ctx.session, unit_id=unit.id):
        raise InvalidInput("{unit} 没有登记住户，请核对房号", unit=unit.designation)
    ctx.data["unit_id"], ctx.data["unit"] = unit.id, unit.designation
    return "resident"


def residents(ctx: Context) -> list[Option]:
    return [
        Option(
            str(r.person_id),
            f"{r.person.name}（{ctx.t(RELATION_LABELS.get(r.relation, r.relation.value))}）",
            translate=False,
            also=(r.person.name,),
        )
        for r in people.residents_of(session=ctx.session, unit_id=ctx.data["unit_id"])
    ]


RELATION_OPTIONS = [Option(relation.value, label) for relation, label in RELATION_LABELS.items()]


def owner_told(ctx: Context, ticket: Ticket) -> str:
    """What the desk hears after registering for an owner: told in chat, or to phone them."""
    if identity.identities_of(session=ctx.session, person_id=ticket.reporter_id):
        return ctx.t("已在聊天中告诉业主单号。")
    return ctx.t("业主没有绑定聊天账号，请电话告知单号。")


# The desk types the unit of the owner it registers for, then picks the resident.
UNIT_TYPED = AskText(
    "unit", N_("请输入房号（例如 1-1-502）："), unit_typed, what=N_("房号"), max_length=32
)

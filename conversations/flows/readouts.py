"""What the desk and the managers read in chat: 今日汇总 (today so far), 逾期事项 (what is
past its deadline), and a head's whole 18:30 digest (its 查看全部 button)."""

from __future__ import annotations

from datetime import date

from conversations.flows.common import estate_id, has_role, staff
from conversations.steps import Context, Flow, Next, then
from conversations.summaries import day_summary, overdue_summary, reader_digest_text
from storage.clock import utcnow
from storage.estate.models import Estate
from storage.figures.daily import day_activity, reader_digest
from storage.i18n import N_
from storage.people.models import DESK_ROLES, MANAGER_ROLES, StaffRole


@then()
def _today(ctx: Context) -> Next:
    activity = day_activity(session=ctx.session, estate_id=estate_id(ctx), day=ctx.today())
    ctx.say(day_summary(activity, ctx.t))
    return None


@then()
def _overdue(ctx: Context) -> Next:
    ctx.say(
        overdue_summary(
            session=ctx.session,
            settings=ctx.settings,
            estate_id=estate_id(ctx),
            now=utcnow(),
            t=ctx.t,
        )
    )
    return None


TODAY = Flow(
    key="today",
    title=N_("今日汇总"),
    allowed=lambda ctx: has_role(ctx, DESK_ROLES),
    start=_today,
    steps=[],
)

OVERDUE = Flow(
    key="overdue",
    title=N_("逾期事项"),
    allowed=lambda ctx: has_role(ctx, DESK_ROLES),
    start=_overdue,
    steps=[],
)


@then()
def _digest(ctx: Context) -> Next:
    """The reader's digest of that day (today by default), uncut: their department's, every
    department's for the project manager."""
    argument = ctx.data.get("argument", "")
    try:
        day = date.fromisoformat(argument) if argument else ctx.today()
    except ValueError:
        day = ctx.today()
    post = staff(ctx)
    estate = ctx.session.get_one(Estate, post.estate_id)
    found = reader_digest(
        session=ctx.session,
        estate=estate,
        day=day,
        department_id=None if post.role is StaffRole.PROJECT_MANAGER else post.department_id,
        now=utcnow(),
    )
    text, _ = reader_digest_text(found, estate.name, ctx.t, ctx.settings.tz, None)
    ctx.say(text)
    return None


DIGEST = Flow(
    key="digest",
    title=N_("每日汇总"),
    allowed=lambda ctx: has_role(ctx, MANAGER_ROLES),
    start=_digest,
    steps=[],
    listed=False,
)

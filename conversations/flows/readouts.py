"""What the desk and the managers read in chat: 今日汇总 (today so far), 逾期事项 (what is
past its deadline)."""

from __future__ import annotations

from conversations.flows.common import estate_id, has_role
from conversations.steps import Context, Flow, Next, then
from conversations.summaries import day_summary, overdue_summary
from storage.clock import utcnow
from storage.figures.daily import day_activity
from storage.i18n import N_
from storage.people.models import DESK_ROLES


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

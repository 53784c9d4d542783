"""今日值班: the desk's hours today and who is on duty, for staff to read in chat."""

from __future__ import annotations

from conversations.flows.common import estate_id, is_staff
from conversations.messages import Reply
from conversations.steps import Context, Flow, Next, then
from storage.duty import service as duty
from storage.estate.models import Estate
from storage.i18n import N_


@then()
def _today_on_duty(ctx: Context) -> Next:
    estate = ctx.session.get_one(Estate, estate_id(ctx))
    day = ctx.today()
    opens, closes = duty.desk_hours(estate, day)
    lines = [
        ctx.t(
            "【今日值班】{day}\n客服中心 {opens}-{closes}",
            day=day.isoformat(),
            opens=opens.strftime("%H:%M"),
            closes=closes.strftime("%H:%M"),
        )
    ]
    shifts = duty.roster(ctx.session, estate_id=estate.id, day=day)
    lines += [f"· {s.department} {s.name} {s.starts:%H:%M}-{s.ends:%H:%M}" for s in shifts]
    if not shifts:
        lines.append(ctx.t("今天没有排班。"))
    ctx.replies.append(Reply("\n".join(lines)))  # each line translated already
    return None


ON_DUTY = Flow(
    key="duty",
    title=N_("今日值班"),
    allowed=is_staff,
    start=_today_on_duty,
    steps=[],
)

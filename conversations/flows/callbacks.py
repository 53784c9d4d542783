"""Callbacks in chat: 回访评价 (the owner answers), 回访 (the desk calls and records)."""

from __future__ import annotations

from datetime import date, timedelta

from conversations.flows.common import (
    chosen_id,
    day,
    estate_id,
    has_role,
    is_resident,
    ticket_label,
    when,
)
from conversations.messages import Reply
from conversations.steps import (
    SATISFACTION,
    AskText,
    Choose,
    Context,
    Flow,
    Next,
    Option,
    remember,
    satisfaction_steps,
    then,
    unless_empty,
)
from storage.attachment.models import AttachmentKind, AttachmentPurpose
from storage.callback import notices as callback_notices
from storage.callback import quality
from storage.callback import service as callbacks
from storage.callback.models import SATISFACTION_LABELS, Callback, CallbackChannel, Satisfaction
from storage.clock import local_date, utcnow
from storage.errors import AlreadyRecorded, InvalidInput
from storage.i18n import N_
from storage.people import privacy
from storage.people.models import DESK_ROLES, StaffRole
from storage.ticket.models import TicketKind


def _chosen(ctx: Context, pending: list[Callback]) -> Callback:
    """The callback chosen earlier in this conversation, if it is still to be made."""
    callback = next((c for c in pending if c.id == ctx.data["callback_id"]), None)
    if callback is None:
        # Recorded meanwhile (the owner answered, or another clerk): nothing to re-answer.
        raise AlreadyRecorded("这次回访已经记录过了。")
    return callback


def _record(ctx: Context, satisfaction: Satisfaction, remark: str) -> Callback:
    return callbacks.record(
        session=ctx.session,
        callback_id=ctx.data["callback_id"],
        actor=ctx.me,
        satisfaction=satisfaction,
        note=remark or None,
    )


# ------------------------------------------------------------------ 回访评价


@then("which", "satisfaction", "more")
def _callback_start(ctx: Context) -> Next:
    wanted, _, answer = ctx.data.get("argument", "").partition(" ")
    if wanted.isdigit() and answer in set(Satisfaction):
        # A button of the callback question: recorded at the press; a second press, or one
        # after the desk recorded it by phone, is told who did and when.
        ctx.data["callback_id"] = int(wanted)
        _owner_answered(ctx, Satisfaction(answer), "")
        return "more"
    pending = callbacks.pending_for_owner(session=ctx.session, person_id=ctx.me.id)
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


def _owner_question(ctx: Context) -> str:
    pending = callbacks.pending_for_owner(session=ctx.session, person_id=ctx.me.id)
    callback = _chosen(ctx, pending)
    return ctx.t("您对 {ticket} 的处理满意吗？", ticket=ticket_label(ctx, callback.ticket))


def _owner_answered(ctx: Context, satisfaction: Satisfaction, remark: str) -> Next:
    callback = _record(ctx, satisfaction, remark)
    if satisfaction is not Satisfaction.UNSATISFIED:
        ctx.say("感谢您的评价！")
    elif callback.ticket.kind is TicketKind.COMPLAINT:
        ctx.say(
            "非常抱歉！您的投诉已转项目负责人重新处理，我们将于 {reply_due} 前再次答复您。",
            reply_due=when(ctx, callback.ticket.reply_due_at),
        )
    else:
        ctx.say(
            "非常抱歉！我们已安排维修人员返工，{hours} 小时内处理，并会再次回访。",
            hours=ctx.settings.rework_hours,
        )
    return None


@then()
def _more(ctx: Context, text: str) -> Next:
    if text:
        callbacks.add_remark(
            session=ctx.session, callback_id=ctx.data["callback_id"], actor=ctx.me, note=text
        )
        ctx.say("已记下，谢谢！")
    else:
        ctx.show_menu = True  # 跳过: the thanks were said at the press; a press gets an answer
    return None


CALLBACK = Flow(
    key="callback",
    title=N_("回访评价"),
    allowed=is_resident,
    start=_callback_start,
    command=True,
    steps=[
        Choose(
            "which",
            N_("请选择要评价的工单："),
            _which_options,
            remember("callback_id", "satisfaction", chosen_id),
        ),
        *satisfaction_steps(
            prompt=_owner_question,
            remark=N_("还有什么想告诉我们的吗？（可跳过）"),
            recorded=_owner_answered,
        ),
        AskText(
            "more",
            N_("还有什么想告诉我们的吗？（可跳过）"),
            _more,
            what=N_("回访意见"),
            max_length=500,
            skippable=True,
        ),
    ],
)


# ------------------------------------------------------------------ 回访


def _callback_options(ctx: Context) -> list[Option]:
    now = utcnow()
    options = []
    for c in callbacks.pending(session=ctx.session, estate_id=estate_id(ctx)):
        overdue = callback_notices.days_overdue(c, now, ctx.settings)
        if overdue:
            late = ctx.t("（已逾期 {days} 天）", days=overdue)
        elif c.due_at <= now + timedelta(days=1):
            late = ctx.t("（今天到期）")
        else:
            late = ""
        tries = ctx.t("，未接通 {count} 次", count=c.attempts) if c.attempts else ""
        text = ctx.t(
            "{ticket} 回访期限 {due_on}{late}{tries}",
            ticket=ticket_label(ctx, c.ticket),
            due_on=day(ctx, c.due_at),
            late=late,
            tries=tries,
        )
        options.append(Option(str(c.id), text, translate=False))
    return options


@then("callback", "channel")
def _callbacks_start(ctx: Context) -> Next:
    wanted = ctx.data.get("argument", "")
    if wanted.isdigit():  # a reminder's 回访
        pending = callbacks.pending(session=ctx.session, estate_id=estate_id(ctx))
        if not any(c.id == int(wanted) for c in pending):
            ctx.say("这次回访已经记录过了。")
            return None
        ctx.data["callback_id"] = int(wanted)
        return "channel"
    if not _callback_options(ctx):
        ctx.say("目前没有待回访的工单。")
        return None
    return "callback"


def _call_prompt(ctx: Context) -> str:
    pending = callbacks.pending(session=ctx.session, estate_id=estate_id(ctx))
    ticket = _chosen(ctx, pending).ticket
    photos = tuple(
        a.ref
        for a in ticket.attachments
        if a.kind == AttachmentKind.PHOTO and a.purpose == AttachmentPurpose.DONE.value
    )
    if photos:  # what the owner is asked about
        ctx.replies.append(Reply(ctx.t("完工照片（{count} 张）：", count=len(photos)), (), photos))
    return ctx.t(
        "回访 {number}：{owner}（{phone}），业主的评价：",
        owner=ticket.reporter.name,
        phone=privacy.phone_for(session=ctx.session, viewer=ctx.me, ticket=ticket) or "—",
        number=ticket.number,
    )


PHONE = Option(CallbackChannel.PHONE.value, N_("电话回访"))
VISIT = Option(CallbackChannel.VISIT.value, N_("上门回访"))
NO_ANSWER = Option("no_answer", N_("未接通"))


def _outcomes(ctx: Context) -> list[Option]:
    phoned = ctx.data.get("channel") == CallbackChannel.PHONE.value
    return [*SATISFACTION, *([NO_ANSWER] if phoned else [])]


@then("remark")
def _outcome(ctx: Context, key: str) -> Next:
    if key != NO_ANSWER.key:
        ctx.data["satisfaction"] = Satisfaction(key).value
        return "remark"
    callback = callbacks.no_answer(
        session=ctx.session, callback_id=ctx.data["callback_id"], actor=ctx.me
    )
    if callback.unreachable:
        ctx.say(
            "已记录：{number} 未接通 {count} 次，无法联系业主，工单已关闭。",
            number=callback.ticket.number,
            count=callback.attempts,
        )
    else:
        ctx.say(
            "已记录未接通（第 {count} 次），{day} 会提醒再打。",
            count=callback.attempts,
            # The day the next try begins (a start of day, not a deadline's end).
            day=local_date(callback.call_again_at or utcnow(), ctx.settings.tz).isoformat(),
        )
    return None


SOLVED = Option("solved", N_("已解决"))
UNSOLVED = Option("unsolved", N_("未解决，约定再次回访"))


@then("solved")
def _desk_remarked(ctx: Context, remark: str) -> Next:
    ctx.data["remark"] = remark
    if Satisfaction(ctx.data["satisfaction"]) is Satisfaction.UNSATISFIED:
        return _desk_recorded(ctx, None)
    return "solved"  # 002 2(3)A c: not solved yet, the desk sets the next callback


@then("next_call")
def _solved(ctx: Context, key: str) -> Next:
    if key == UNSOLVED.key:
        return "next_call"
    return _desk_recorded(ctx, None)


def _next_call_options(ctx: Context) -> list[Option]:
    today = local_date(utcnow(), ctx.settings.tz)
    return [
        Option(
            (today + timedelta(days=days)).isoformat(),
            ctx.t(
                "{days} 天后（{day}）", days=days, day=(today + timedelta(days=days)).isoformat()
            ),
            translate=False,
        )
        for days in (3, 7, 14)
    ]


@then()
def _next_call(ctx: Context, key: str) -> Next:
    try:
        again_on = date.fromisoformat(key)
    except ValueError:
        raise InvalidInput("请从列表中选择日期") from None
    return _desk_recorded(ctx, again_on)


def _desk_recorded(ctx: Context, again_on: date | None) -> Next:
    satisfaction = Satisfaction(ctx.data["satisfaction"])
    callback = callbacks.record(
        session=ctx.session,
        callback_id=ctx.data["callback_id"],
        actor=ctx.me,
        satisfaction=satisfaction,
        note=ctx.data.get("remark") or None,
        channel=CallbackChannel(ctx.data["channel"]),
        again_on=again_on,
    )
    if again_on is not None:
        ctx.say("已记录回访结果，{day} 再次回访（会提醒您）。", day=again_on.isoformat())
    elif satisfaction is not Satisfaction.UNSATISFIED:
        ctx.say("已记录回访结果。")
    elif callback.ticket.kind is TicketKind.COMPLAINT:
        ctx.say(
            "已记录。投诉已转项目负责人重新处理，须于 {reply_due} 前再次答复业主。",
            reply_due=when(ctx, callback.ticket.reply_due_at),
        )
    else:
        ctx.say(
            "已记录。返工单已派给原维修人员，{hours} 小时内处理。", hours=ctx.settings.rework_hours
        )
    return None


CALLBACKS = Flow(
    key="callbacks",
    title=N_("回访"),
    allowed=lambda ctx: has_role(ctx, DESK_ROLES),
    start=_callbacks_start,
    steps=[
        Choose(
            "callback",
            N_("待回访（最早到期的在前）："),
            _callback_options,
            remember("callback_id", "channel", chosen_id),
        ),
        Choose("channel", N_("回访方式："), [PHONE, VISIT], remember("channel", "outcome")),
        Choose("outcome", _call_prompt, _outcomes, _outcome),
        AskText(
            "remark",
            N_("业主意见（可跳过）："),
            _desk_remarked,
            what=N_("回访意见"),
            max_length=500,
            skippable=True,
        ),
        Choose("solved", N_("业主反映的问题解决了吗？"), [SOLVED, UNSOLVED], _solved),
        Choose("next_call", N_("约定哪天再次回访？"), _next_call_options, _next_call),
    ],
)


# ------------------------------------------------------------------ 品质抽查


def _checks(ctx: Context) -> list[Option]:
    found = quality.pending(session=ctx.session, estate_id=estate_id(ctx), actor=ctx.me)
    return [
        Option(
            str(check.id),
            f"{ticket_label(ctx, check.callback.ticket)}（{check.period}）",
            translate=False,
        )
        for check in found
    ]


def _check_prompt(ctx: Context) -> str:
    found = quality.pending(session=ctx.session, estate_id=estate_id(ctx), actor=ctx.me)
    check = next((c for c in found if c.id == ctx.data["check_id"]), None)
    if check is None:
        # Recorded meanwhile by another specialist: nothing to re-answer, as with _chosen.
        raise AlreadyRecorded("这项抽查已经记录过了")
    callback, ticket = check.callback, check.callback.ticket
    first = ctx.t(SATISFACTION_LABELS[callback.satisfaction]) if callback.satisfaction else "—"
    said = f"（{callback.note}）" if callback.note else ""
    return ctx.t(
        "抽查 {number}：{owner}（{phone}）\n回访结果：{first}{note}\n业主现在的评价：",
        number=ticket.number,
        owner=ticket.reporter.name,
        phone=privacy.phone_for(session=ctx.session, viewer=ctx.me, ticket=ticket) or "—",
        first=first,
        note=said,
    )


@then()
def _checked(ctx: Context, remark: str) -> Next:
    satisfaction = Satisfaction(ctx.data["satisfaction"])
    check = quality.record(
        session=ctx.session,
        check_id=ctx.data["check_id"],
        actor=ctx.me,
        satisfaction=satisfaction,
        note=remark or None,
    )
    if satisfaction is Satisfaction.UNSATISFIED and check.callback.ticket.kind is TicketKind.REPAIR:
        ctx.say(
            "已记录。{number} 已重新打开，返工单已派给原维修人员。",
            number=check.callback.ticket.number,
        )
    elif satisfaction is Satisfaction.UNSATISFIED:
        ctx.say(
            "已记录。{number} 已重新打开，转项目负责人处理。", number=check.callback.ticket.number
        )
    else:
        ctx.say("已记录抽查结果。")
    return None


def _checker(ctx: Context) -> bool:
    return has_role(ctx, {StaffRole.QUALITY_SPECIALIST, StaffRole.PROJECT_MANAGER})


QUALITY = Flow(
    key="quality",
    title=N_("品质抽查"),
    allowed=_checker,
    start=unless_empty(_checks, N_("目前没有待记录的抽查。"), "check"),
    steps=[
        Choose(
            "check",
            N_("待记录的抽查："),
            _checks,
            remember("check_id", "satisfaction", chosen_id),
        ),
        Choose(
            "satisfaction",
            _check_prompt,
            SATISFACTION,
            remember("satisfaction", "remark", lambda key: Satisfaction(key).value),
        ),
        AskText(
            "remark",
            N_("抽查意见（可跳过）："),
            _checked,
            what=N_("抽查意见"),
            max_length=500,
            skippable=True,
        ),
    ],
)

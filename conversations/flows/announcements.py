"""发布通知: the desk writes a notice to residents (an outage among them), previews who it
reaches, and sends it; 通知审批: a supervisor approves it; 通知记录: what went out, who
received it, who pressed 收到, an outage ended early; 收到: a resident's receipt."""

from __future__ import annotations

from datetime import datetime

from conversations.flows.common import chosen_id, estate_id, has_role, is_resident
from conversations.steps import (
    CONFIRM,
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
from storage.announcement.models import (
    ANNOUNCEMENT_KIND_LABELS,
    ANNOUNCEMENT_STATUS_LABELS,
    Announcement,
    AnnouncementKind,
    AnnouncementStatus,
)
from storage.announcement.service import Audience
from storage.clock import format_local, parse_local_moment, utcnow
from storage.errors import InvalidInput
from storage.i18n import N_, Msg
from storage.people.models import DESK_ROLES, MANAGER_ROLES

WHOLE, PLACES, OPEN_TICKETS = "estate", "places", "open_tickets"
NOW, LATER = "now", "later"
ORDINARY, EMERGENCY = "ordinary", "emergency"


def _audience(ctx: Context) -> Audience:
    if ctx.data["audience"] == OPEN_TICKETS:
        return Audience(open_tickets=True)
    if ctx.data["audience"] == PLACES:
        return announcements.parse_places(ctx.data["places"])
    return Audience()


@then("ends", "audience")
def _kind(ctx: Context, key: str) -> Next:
    kind = AnnouncementKind(key)
    ctx.data["kind"] = kind.value
    # An outage's end first: what residents most want to know, and what ends it here.
    return "ends" if kind.is_outage else "audience"


@then("places", "title")
def _chosen_audience(ctx: Context, key: str) -> Next:
    ctx.data["audience"] = key
    return "places" if key == PLACES else "title"


@then("title")
def _places(ctx: Context, text: str) -> Next:
    audience = announcements.parse_places(text)
    # Every place named must exist: said now, not after the whole notice is written.
    announcements.audience_units(session=ctx.session, estate_id=estate_id(ctx), audience=audience)
    ctx.data["places"] = text
    return "title"


def _moment(ctx: Context, text: str) -> datetime:
    moment = parse_local_moment(text, utcnow(), ctx.settings.tz)
    if moment is None:
        raise InvalidInput("时间格式不对，请写如 18:00、明天 8:00 或 12-05 18:00")
    if moment <= utcnow():
        raise InvalidInput("请写一个以后的时间")
    return moment


@then("audience")
def _ends(ctx: Context, text: str) -> Next:
    ctx.data["ends_at"] = _moment(ctx, text).isoformat()
    return "audience"


@then("at", "urgency")
def _when(ctx: Context, key: str) -> Next:
    return "at" if key == LATER else "urgency"


@then("urgency")
def _at(ctx: Context, text: str) -> Next:
    moment = _moment(ctx, text)
    ends = ctx.data.get("ends_at")
    if ends and datetime.fromisoformat(ends) <= moment:
        raise InvalidInput("发送时间应早于预计恢复时间")
    ctx.data["send_at"] = moment.isoformat()
    return "urgency"


def _preview(ctx: Context) -> str | Msg:
    audience = _audience(ctx)
    found = announcements.reach(session=ctx.session, estate_id=estate_id(ctx), audience=audience)
    kind = AnnouncementKind(ctx.data["kind"])
    lines = [
        ctx.t("请确认通知："),
        ctx.t("类型：{kind}", kind=Msg(ANNOUNCEMENT_KIND_LABELS[kind]))
        + (ctx.t("（紧急）") if ctx.data.get("emergency") else ""),
        ctx.t("发给：{audience}", audience=audience.describe()),
        ctx.t("标题：{title}", title=ctx.data["title"]),
        ctx.data["text"],
    ]
    if ctx.data.get("ends_at"):
        ends = datetime.fromisoformat(ctx.data["ends_at"])
        lines.append(ctx.t("预计恢复：{ends}", ends=format_local(ends, ctx.settings.tz)))
    send_at = ctx.data.get("send_at")
    lines.append(
        ctx.t(
            "发送时间：{at}",
            at=format_local(datetime.fromisoformat(send_at), ctx.settings.tz)
            if send_at
            else ctx.t("立即"),
        )
    )
    asked = datetime.fromisoformat(send_at) if send_at else utcnow()
    at = announcements.goes_out_at(
        asked, emergency=bool(ctx.data.get("emergency")), now=utcnow(), settings=ctx.settings
    )
    if at > max(asked, utcnow()):
        lines.append(
            ctx.t(
                "现在是夜间：普通通知将于 {at} 发送，紧急通知立即发送。",
                at=format_local(at, ctx.settings.tz),
            )
        )
    lines.append(
        ctx.t(
            "将发给 {bound} 位已绑定的住户；另有 {unbound} 位住户未绑定，收不到。",
            bound=found.bound,
            unbound=found.not_bound,
        )
    )
    if announcements.needs_approval(
        session=ctx.session,
        estate_id=estate_id(ctx),
        actor=ctx.me,
        emergency=bool(ctx.data.get("emergency")),
    ):
        lines.append(ctx.t("提交后由主管审批，批准后发送。"))
    return "\n".join(lines)


@then("confirm")
def _urgency(ctx: Context, key: str) -> Next:
    ctx.data["emergency"] = key == EMERGENCY
    return "confirm"


@then()
def _send(ctx: Context, key: str) -> Next:
    if key != CONFIRM.key:
        ctx.say("已取消，没有保存任何内容。")
        return None
    ends, send_at = ctx.data.get("ends_at"), ctx.data.get("send_at")
    announcement = announcements.create(
        session=ctx.session,
        estate_id=estate_id(ctx),
        kind=AnnouncementKind(ctx.data["kind"]),
        title=ctx.data["title"],
        text=ctx.data["text"],
        audience=_audience(ctx),
        actor=ctx.me,
        by=ctx.me.name,
        send_at=datetime.fromisoformat(send_at) if send_at else None,
        ends_at=datetime.fromisoformat(ends) if ends else None,
        emergency=bool(ctx.data.get("emergency")),
    )
    _said_where(ctx, announcement)
    return None


def _said_where(ctx: Context, announcement: Announcement) -> None:
    """Where the notice is now, in one line for whoever moved it."""
    if announcement.status is AnnouncementStatus.PENDING_APPROVAL:
        ctx.say("通知 {number} 已提交，等待主管审批。", number=announcement.number)
    elif announcement.status is AnnouncementStatus.SENT:
        counts = announcements.counts(session=ctx.session, announcement_id=announcement.id)
        ctx.say(
            "通知 {number} 已发出：{sent} 位住户将收到，{unbound} 位未绑定。"
            "在「通知记录」中可查看送达和「收到」人数。",
            number=announcement.number,
            sent=counts.residents - counts.not_bound,
            unbound=counts.not_bound,
        )
    else:
        at = announcements.goes_out_at(
            announcement.send_at,
            emergency=announcement.emergency,
            now=utcnow(),
            settings=ctx.settings,
        )
        ctx.say(
            "通知 {number} 将于 {at} 发送。",
            number=announcement.number,
            at=format_local(at, ctx.settings.tz),
        )


ANNOUNCE = Flow(
    key="announce",
    title=N_("发布通知"),
    words=(N_("停水通知"), N_("停电通知")),
    allowed=lambda ctx: has_role(ctx, DESK_ROLES),
    start=go("kind"),
    steps=[
        Choose(
            "kind",
            N_("发布什么通知？"),
            [Option(k.value, label) for k, label in ANNOUNCEMENT_KIND_LABELS.items()],
            _kind,
        ),
        AskText(
            "ends",
            N_("预计恢复时间（例如 18:00、明天 8:00、12-05 18:00）："),
            _ends,
            what=N_("预计恢复时间"),
            max_length=40,
        ),
        Choose(
            "audience",
            N_("发给谁？"),
            [
                Option(WHOLE, N_("全小区住户")),
                Option(PLACES, N_("指定楼栋、单元或房号")),
                Option(OPEN_TICKETS, N_("有未结工单的住户")),
            ],
            _chosen_audience,
        ),
        AskText(
            "places",
            N_("请输入楼栋、单元或房号，可写多个，用逗号隔开（例如 3 或 3-1 或 3-1-1204）："),
            _places,
            what=N_("楼栋、单元或房号"),
            max_length=500,
        ),
        AskText(
            "title",
            N_("通知标题（例如 3栋停水通知）："),
            remember("title", "text"),
            what=N_("标题"),
            max_length=100,
        ),
        AskText(
            "text", N_("通知内容："), remember("text", "when"), what=N_("通知内容"), max_length=2000
        ),
        Choose(
            "when",
            N_("什么时候发送？"),
            [Option(NOW, N_("立即发送")), Option(LATER, N_("定时发送"))],
            _when,
        ),
        AskText(
            "at",
            N_("发送时间（例如 明天 8:00、12-05 08:00）："),
            _at,
            what=N_("发送时间"),
            max_length=40,
        ),
        Choose(
            "urgency",
            N_("是紧急通知吗？（紧急通知无需审批，夜间也会立即发送）"),
            [Option(ORDINARY, N_("否，普通通知")), Option(EMERGENCY, N_("是，紧急通知"))],
            _urgency,
        ),
        Choose("confirm", _preview, [CONFIRM, Option("cancel", N_("取消"))], _send),
    ],
)


# ------------------------------------------------------------------ 通知审批


def _waiting_options(ctx: Context) -> list[Option]:
    return [
        Option(str(a.id), f"{a.number} {a.title}", translate=False)
        for a in announcements.waiting_approval(session=ctx.session, estate_id=estate_id(ctx))
    ]


def _named(ctx: Context) -> Next:
    argument = ctx.data.pop("argument", "")
    if argument.isdigit() and any(o.key == argument for o in _waiting_options(ctx)):
        ctx.data["announcement_id"] = int(argument)
        return "decision"
    if argument.isdigit():  # the notice's button, pressed after someone decided
        found = announcements.get(
            session=ctx.session, announcement_id=int(argument), estate_id=estate_id(ctx)
        )
        ctx.say(
            "通知 {number} 已处理，现为「{status}」。",
            number=found.number,
            status=ctx.t(ANNOUNCEMENT_STATUS_LABELS[found.status]),
        )
        return None
    if not _waiting_options(ctx):
        ctx.say("目前没有待审批的通知。")
        return None
    return "pick"


def _decision_prompt(ctx: Context) -> str:
    found = announcements.get(
        session=ctx.session, announcement_id=ctx.data["announcement_id"], estate_id=estate_id(ctx)
    )
    audience = Audience.of(found)
    lines = [
        ctx.t(
            "{number}「{title}」发给 {audience}：",
            number=found.number,
            title=found.title,
            audience=audience.describe(),
        ),
        found.text,
        ctx.t("批准发送吗？"),
    ]
    return "\n".join(lines)


APPROVE, SEND_BACK = "approve", "send_back"


@then("reason")
def _decided(ctx: Context, key: str) -> Next:
    if key == SEND_BACK:
        return "reason"
    _said_where(ctx, _decide(ctx, approve=True))
    return None


def _decide(ctx: Context, *, approve: bool, reason: str = "") -> Announcement:
    return announcements.decide(
        session=ctx.session,
        announcement_id=ctx.data["announcement_id"],
        actor=ctx.me,
        approve=approve,
        reason=reason,
    )


@then()
def _reason(ctx: Context, text: str) -> Next:
    found = _decide(ctx, approve=False, reason=text)
    ctx.say("已退回通知 {number}，已告知提交人。", number=found.number)
    return None


APPROVE_NOTICE = Flow(
    key="approve_notice",
    title=N_("通知审批"),
    allowed=lambda ctx: has_role(ctx, MANAGER_ROLES),
    start=then("decision", "pick")(_named),
    steps=[
        Choose(
            "pick",
            N_("待审批的通知："),
            _waiting_options,
            remember("announcement_id", "decision", chosen_id),
        ),
        Choose(
            "decision",
            _decision_prompt,
            [Option(APPROVE, N_("批准发送")), Option(SEND_BACK, N_("退回修改"))],
            _decided,
        ),
        AskText("reason", N_("请写明退回原因："), _reason, what=N_("退回原因"), max_length=500),
    ],
)


# ------------------------------------------------------------------ 通知记录


def _sent_options(ctx: Context) -> list[Option]:
    return [
        Option(
            str(a.id),
            f"{a.number} {a.title} · {ctx.t(ANNOUNCEMENT_STATUS_LABELS[a.status])}",
            translate=False,
        )
        for a in announcements.listing(session=ctx.session, estate_id=estate_id(ctx), limit=10)
    ]


def _record(ctx: Context) -> Announcement:
    return announcements.get(
        session=ctx.session, announcement_id=ctx.data["announcement_id"], estate_id=estate_id(ctx)
    )


def _record_prompt(ctx: Context) -> str:
    found = _record(ctx)
    counts = announcements.counts(session=ctx.session, announcement_id=found.id)
    lines = [
        f"{found.number}「{found.title}」· {ctx.t(ANNOUNCEMENT_STATUS_LABELS[found.status])}",
        ctx.t("发给：{audience}", audience=Audience.of(found).describe()),
        found.text,
    ]
    if found.ends_at is not None:
        lines.append(ctx.t("预计恢复：{ends}", ends=format_local(found.ends_at, ctx.settings.tz)))
    if found.sent_at is not None:
        lines.append(
            ctx.t(
                "送达 {delivered}，发送中 {waiting}，失败 {failed}，未绑定 {unbound}；"
                "已点「收到」{acknowledged}",
                delivered=counts.delivered,
                waiting=counts.waiting,
                failed=counts.failed,
                unbound=counts.not_bound,
                acknowledged=counts.acknowledged,
            )
        )
    return "\n".join(lines)


END, WITHDRAW, BACK = "end", "withdraw", "back"


def _record_actions(ctx: Context) -> list[Option]:
    found = _record(ctx)
    actions = []
    if found.status is AnnouncementStatus.SENT and found.kind.is_outage:
        actions.append(Option(END, N_("已恢复，通知住户")))
    if found.status in (AnnouncementStatus.PENDING_APPROVAL, AnnouncementStatus.SCHEDULED):
        actions.append(Option(WITHDRAW, N_("撤回")))
    return [*actions, Option(BACK, N_("返回"))]


@then("pick", "end")
def _record_action(ctx: Context, key: str) -> Next:
    if key == BACK:
        return "pick"
    if key == END:
        return "end"  # it tells every resident it reached: asked once more
    found = announcements.cancel(
        session=ctx.session, announcement_id=ctx.data["announcement_id"], actor=ctx.me
    )
    ctx.say("已撤回通知 {number}，没有发给住户。", number=found.number)
    return None


def _end_prompt(ctx: Context) -> str:
    found = _record(ctx)
    return ctx.t(
        "确认{kind}已恢复？将通知 {where} 的住户「{title}」已结束。",
        kind=ctx.t(ANNOUNCEMENT_KIND_LABELS[found.kind]),
        where=Audience.of(found).describe(),
        title=found.title,
    )


@then()
def _ended(ctx: Context) -> Next:
    found = announcements.end_early(
        session=ctx.session, announcement_id=ctx.data["announcement_id"], actor=ctx.me
    )
    ctx.say("已结束 {number}，已通知受影响的住户恢复正常。", number=found.number)
    return None


NOTICES = Flow(
    key="notices",
    title=N_("通知记录"),
    allowed=lambda ctx: has_role(ctx, DESK_ROLES),
    start=unless_empty(_sent_options, N_("还没有发布过通知。"), "pick"),
    steps=[
        Choose(
            "pick",
            N_("最近的通知："),
            _sent_options,
            remember("announcement_id", "record", chosen_id),
        ),
        Choose("record", _record_prompt, _record_actions, _record_action),
        confirm_step("end", _end_prompt, _ended),
    ],
)


# ------------------------------------------------------------------ 收到


@then()
def _received(ctx: Context) -> Next:
    argument = ctx.data.pop("argument", "")
    # The button names its notice; 收到 typed is for the latest one not yet acknowledged.
    found = (
        announcements.acknowledge(session=ctx.session, announcement_id=int(argument), person=ctx.me)
        if argument.isdigit()
        else announcements.acknowledge_latest(session=ctx.session, person=ctx.me)
    )
    if found is None:
        ctx.say("没有需要确认的通知。")
        return None
    ctx.say("已确认收到「{title}」，谢谢！", title=found.title)
    return None


RECEIVED = Flow(
    key="received",
    title=N_("收到"),
    allowed=is_resident,
    start=_received,
    steps=[],
    listed=False,
)

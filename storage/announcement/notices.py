"""What residents and the desk are told of a notice to residents: one builder per kind."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from storage.announcement.models import ANNOUNCEMENT_KIND_LABELS, Announcement
from storage.clock import format_local
from storage.i18n import N_, Msg
from storage.outbox.notice import Notice

RECEIVED = N_("收到")


def announcement(announcement: Announcement, tz: ZoneInfo) -> Notice:
    """To each bound resident of the audience, with 收到."""
    if announcement.kind.is_outage:
        return Notice(
            "announcement",
            N_("【{kind}通知】{title}\n{text}\n预计恢复时间：{ends}"),
            {
                "kind": Msg(ANNOUNCEMENT_KIND_LABELS[announcement.kind]),
                "title": announcement.title,
                "text": announcement.text,
                "ends": format_local(announcement.ends_at, tz),
            },
            actions=((f"/received {announcement.id}", RECEIVED),),
        )
    template = (
        N_("【紧急通知】{title}\n{text}")
        if announcement.emergency
        else N_("【通知】{title}\n{text}")
    )
    return Notice(
        "announcement",
        template,
        {"title": announcement.title, "text": announcement.text},
        actions=((f"/received {announcement.id}", RECEIVED),),
    )


def outage_over(announcement: Announcement) -> Notice:
    return Notice(
        "announcement_over",
        N_("【恢复通知】{title}：{kind}已结束，已恢复正常。感谢您的理解与配合！"),
        {"title": announcement.title, "kind": Msg(ANNOUNCEMENT_KIND_LABELS[announcement.kind])},
    )


def approval_asked(announcement: Announcement, audience: str) -> Notice:
    """To the supervisors: a notice waits for approval before it goes to residents."""
    return Notice(
        "announcement_approval",
        N_("【通知待审批】{number}「{title}」发给 {audience}，由 {writer} 提交。\n{text}"),
        {
            "number": announcement.number,
            "title": announcement.title,
            "audience": audience,
            "writer": announcement.created_by.name if announcement.created_by else "",
            "text": announcement.text,
        },
        actions=((f"/approve_notice {announcement.id}", N_("审批通知")),),
    )


def decided(announcement: Announcement, *, approve: bool, by: str, reason: str) -> Notice:
    """To the writer: approved (it goes out at its time) or sent back, with why."""
    if approve:
        return Notice(
            "announcement_approved",
            N_("通知 {number}「{title}」已由 {by} 批准，将按时发送。"),
            {"number": announcement.number, "title": announcement.title, "by": by},
        )
    return Notice(
        "announcement_refused",
        N_("通知 {number}「{title}」被 {by} 退回：{reason}"),
        {"number": announcement.number, "title": announcement.title, "by": by, "reason": reason},
    )

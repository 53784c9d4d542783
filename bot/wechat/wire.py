"""Translation between WeChat's XML and wuye's neutral messages."""

from __future__ import annotations

from typing import Any

from conversations.messages import Incoming, Location, Reply
from conversations.steps import Option
from storage.i18n import Translator

PLATFORM = "wechat"
# A passive text reply is cut off by WeChat past about 2048 bytes.
PASSIVE_LIMIT = 600  # characters of Chinese text: under 2048 bytes in UTF-8
# WeChat's custom menu: at most three buttons in its bar, and five under each.
BAR, UNDER = 3, 5


def dedupe_key(message: Any) -> str:
    """MsgId for messages; sender and CreateTime for events, which have no id."""
    if message.type == "event":
        return f"e:{message.source}:{int(message.create_time.timestamp())}:{message.event}"
    return f"m:{message.id}"


def to_incoming(message: Any, media: dict[str, str]) -> Incoming | None:
    """The neutral message, with media already downloaded (``media``: media id → ref)."""
    base = {
        "platform": PLATFORM,
        "chat_id": message.source,
        "user_id": message.source,
        "message_id": dedupe_key(message),
        "opens_window": True,  # the 48 hours of customer-service messages start again
    }
    kind = message.type
    if kind == "text":
        return Incoming(**base, text=message.content or "")
    if kind == "image":
        return Incoming(**base, photos=(media.get(message.media_id, message.image or ""),))
    if kind == "voice":
        return Incoming(**base, voice=media.get(message.media_id), voice_text=message.recognition)
    if kind == "location":
        return Incoming(
            **base,
            location=Location(float(message.location_x), float(message.location_y), message.label),
        )
    if kind == "event":
        event = (message.event or "").lower()
        if event == "subscribe":
            return Incoming(**base, text="/start")  # greet, and start binding
        if event in ("subscribe_scan", "scan"):
            # 带参数二维码: the scene is a binding code (qrscene_<code> on a first follow,
            # wechatpy strips the prefix); /start <code> binds at once, like a deep link.
            scene = str(getattr(message, "scene_id", "") or "").strip()
            return Incoming(**base, text=f"/start {scene}".strip())
        if event == "click" and message.key:
            return Incoming(**base, button=message.key)
    return None


def menu(commands: list[Option], t: Translator) -> dict[str, Any]:
    """The account's custom menu from the engine's commands: all in the bar when they fit,
    else the first two there and the rest under 更多. A click sends the command's key."""
    buttons: list[dict[str, Any]] = [
        {"type": "click", "name": t(c.label), "key": f"/{c.key}"} for c in commands
    ]
    if len(buttons) <= BAR:
        return {"button": buttons}
    first, rest = buttons[: BAR - 1], buttons[BAR - 1 :]
    if len(rest) > UNDER:
        raise ValueError(f"WeChat's menu holds {BAR - 1 + UNDER} commands, not {len(buttons)}")
    return {"button": [*first, {"name": t("更多"), "sub_button": rest}]}


def render(replies: list[Reply], t: Translator) -> str:
    """Buttons become a numbered menu: WeChat has none, and the engine takes numbers."""
    parts = []
    for reply in replies:
        lines = [reply.text]
        if reply.buttons:
            lines += [f"{n}. {b.label}" for n, b in enumerate(reply.buttons, 1)]
            lines.append(t("（回复 1-{count}）", count=len(reply.buttons)))
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def split_passive(text: str) -> tuple[str, str]:
    """What fits in the passive reply, and the rest (sent as customer-service messages)."""
    if len(text) <= PASSIVE_LIMIT:
        return text, ""
    cut = text.rfind("\n", 0, PASSIVE_LIMIT)
    cut = cut if cut > PASSIVE_LIMIT // 2 else PASSIVE_LIMIT
    return text[:cut], text[cut:].lstrip("\n")

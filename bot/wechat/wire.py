"""Translation between WeChat's XML and wuye's neutral messages."""

from __future__ import annotations

from typing import Any

from conversations.messages import Incoming, Location, Reply
from storage.i18n import Translator
from storage.identity.models import Platform

# A passive text reply is cut off by WeChat past about 2048 bytes.
PASSIVE_LIMIT = 600  # characters of Chinese text: under 2048 bytes in UTF-8
MENU = (("/repair", "报修"), ("/complaint", "投诉"), ("/mine", "我的工单"))


def dedupe_key(message: Any) -> str:
    """MsgId for messages; sender and CreateTime for events, which have no id."""
    if message.type == "event":
        return f"e:{message.source}:{int(message.create_time.timestamp())}:{message.event}"
    return f"m:{message.id}"


def to_incoming(message: Any, media: dict[str, str]) -> Incoming | None:
    """The neutral message, with media already downloaded (``media``: media id → ref)."""
    base = {
        "platform": Platform.WECHAT,
        "chat_id": message.source,
        "user_id": message.source,
        "message_id": dedupe_key(message),
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
        if event == "click" and message.key:
            return Incoming(**base, button=message.key)
    return None


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

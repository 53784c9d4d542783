"""The registry: every platform wuye can serve. A platform whose settings are given is
served; the others are not. (What a platform is made of: ``bot/channel.py``.)"""

from __future__ import annotations

from bot.channel import Channel, Configure
from bot.telegram.channel import TelegramChannel
from bot.wechat.channel import WechatChannel
from bot.wecom.channel import WecomChannel
from conversations.engine import Engine
from storage.config import Settings

REGISTRY: tuple[Configure, ...] = (
    TelegramChannel,
    WechatChannel,
    WecomChannel,
)


def configured(settings: Settings, engine: Engine) -> list[Channel]:
    """The channels these settings give, in the registry's order."""
    return [
        channel for kind in REGISTRY if (channel := kind.configure(settings, engine)) is not None
    ]

"""What goes in and out of a conversation, in no platform's terms.

An adapter turns a Telegram update or a WeChat message into an ``Incoming`` and
renders each ``Reply`` its own way: buttons as an inline keyboard, as a numbered
text menu, or as numbered lines in a terminal.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float
    label: str | None = None

    def describe(self) -> str:
        where = f"{self.latitude:.5f},{self.longitude:.5f}"
        return f"{self.label} ({where})" if self.label else where


@dataclass(frozen=True)
class Incoming:
    platform: str  # the channel's name: "telegram", "wechat", "console"
    chat_id: str
    user_id: str
    message_id: str
    text: str = ""
    button: str | None = None  # the key of a pressed button
    photos: tuple[str, ...] = ()  # attachment refs
    voice: str | None = None  # attachment ref
    # Why the channel dropped an attachment ("too_large", "not_a_photo", "not_a_voice"):
    # the sender is told, since what they sent is not in photos or voice.
    refused: tuple[str, ...] = ()
    voice_text: str | None = None  # the platform's speech recognition, when it has one
    location: Location | None = None
    language: str | None = None  # the platform's language code, e.g. "zh-TW"
    # The platform lets the account write to this chat for a while after each message
    # (WeChat's 48 hours): the engine notes when, in the message's own transaction.
    opens_window: bool = False

    @property
    def said(self) -> str:
        """What the person said, typed or spoken."""
        return (self.text or self.voice_text or "").strip()


@dataclass(frozen=True)
class Button:
    key: str  # at most 64 bytes: Telegram's callback-data limit
    label: str


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[Button, ...] = ()
    images: tuple[str, ...] = ()

"""Sending to Telegram within its limits, one chat never holding up the others.

Telegram allows about 30 messages a second overall, one a second in a private
chat and 20 a minute in a group. PTB's AIORateLimiter has no per-private-chat
limit and pauses every chat on one 429, so wuye keeps its own: a global bucket,
a bucket per chat, and a 429's ``retry_after`` obeyed by the chat that got it.
Telegram counts each photo of a media group as a message, and so do the buckets.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from aiolimiter import AsyncLimiter
from telegram import Bot, InputMediaPhoto, Message
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot.channel import Refused
from bot.telegram.wire import PLATFORM, TEXT_LIMIT, chat_number, keyboard_json, split_text
from conversations.messages import Reply

log = logging.getLogger(__name__)
T = TypeVar("T")

ALBUM_LIMIT = 10  # the most photos Telegram takes in one media group


@dataclass(frozen=True)
class Picture:
    """A picture as Telegram takes it: a file it already holds (its file id, for a photo
    that could not be downloaded), or the bytes of a local file."""

    photo: bytes | str
    filename: str | None = None


async def picture_of(image: str) -> Picture | None:
    """The picture an image of a reply stands for; None (and a line in the log) when it
    cannot be sent from here: a file gone from disk, another platform's ref."""
    platform, _, file_id = image.partition(":")
    if platform == PLATFORM and file_id:
        return Picture(file_id)
    try:
        # Read once, before the first attempt: a retried call sends the same bytes.
        data = await asyncio.to_thread(Path(image).read_bytes)
    except OSError as error:
        log.warning("picture %s left out of a telegram message: %s", image, error)
        return None
    return Picture(data, Path(image).name)


class WuyeBot(Bot):
    """PTB's Bot, with calls whose result wuye never reads: PTB's own methods parse the
    Message Telegram returns into objects, a few percent of a webhook's CPU, for nothing.
    Errors (429, 403, 400) are raised as PTB raises them: its request layer is the same."""

    async def call_unread(self, method: str, params: dict[str, Any]) -> None:
        await self._post(method, params)


class TelegramSender:
    def __init__(
        self,
        bot: WuyeBot,
        *,
        per_second: float = 30,
        chat_per_second: float = 1,
        chat_burst: int = 3,
        max_retries: int = 5,
    ) -> None:
        self.bot = bot
        self.max_retries = max_retries
        self.chat_burst = chat_burst
        self.chat_period = chat_burst / chat_per_second
        # Smooth, not bursty: a bucket of 30 would let 30 go at once and more within the
        # same second, and Telegram counts any second. One every 1/30 s never exceeds it.
        self._everyone = AsyncLimiter(1, 1 / per_second)
        self._chats: OrderedDict[str, AsyncLimiter] = OrderedDict()

    def _limiter(self, chat_id: str) -> AsyncLimiter:
        limiter = self._chats.pop(chat_id, None)
        if limiter is None:
            # Group chat ids are negative: 20 a minute there, 1 a second in private chats.
            limiter = (
                AsyncLimiter(20, 60)
                if chat_id.startswith("-")
                else AsyncLimiter(self.chat_burst, self.chat_period)
            )
        self._chats[chat_id] = limiter
        while len(self._chats) > 10_000:
            self._chats.popitem(last=False)
        return limiter

    async def send(self, chat_id: str, reply: Reply) -> None:
        """The pictures first (one photo, or albums of up to ten), then the words about
        them with their buttons: a media group cannot carry buttons. A picture that cannot
        go is left out; the words still go."""
        pictures = [p for image in reply.images if (p := await picture_of(image)) is not None]
        for start in range(0, len(pictures), ALBUM_LIMIT):
            await self._album(chat_id, pictures[start : start + ALBUM_LIMIT])
        pieces = split_text(reply.text)
        for number, piece in enumerate(pieces, 1):
            params: dict[str, Any] = {"chat_id": chat_number(chat_id), "text": piece}
            # Buttons go with the last piece, under the question they answer.
            if number == len(pieces) and (markup := keyboard_json(reply.buttons)):
                params["reply_markup"] = markup
            await self._paced(chat_id, partial(self._call, "sendMessage", params))

    async def unread(self, method: str, params: dict[str, Any]) -> None:
        """A Bot API call whose result is not read, outside the pace (an answer to a press)."""
        await self._call(method, params)

    async def _call(self, method: str, params: dict[str, Any]) -> None:
        await self.bot.call_unread(method, params)

    async def _album(self, chat_id: str, pictures: list[Picture]) -> list[Message]:
        """One sendPhoto, or one sendMediaGroup for two to ten. A picture Telegram refuses
        (too large, a file id it no longer knows) is left out: in a group it would sink
        the others, so they are tried one by one."""
        if len(pictures) == 1:
            [picture] = pictures
            send = partial(
                self.bot.send_photo, chat_number(chat_id), picture.photo, filename=picture.filename
            )
            try:
                return [await self._paced(chat_id, send)]
            except BadRequest as bad:
                log.warning("sendPhoto to chat %s refused, picture left out: %s", chat_id, bad)
                return []
        media = [InputMediaPhoto(p.photo, filename=p.filename) for p in pictures]
        group = partial(self.bot.send_media_group, chat_number(chat_id), media)
        try:
            return list(await self._paced(chat_id, group, weight=len(media)))
        except BadRequest as bad:
            log.warning("sendMediaGroup to chat %s refused, photos one by one: %s", chat_id, bad)
            return [
                message for picture in pictures for message in await self._album(chat_id, [picture])
            ]

    async def replace(self, chat_id: str, message_id: int, reply: Reply) -> bool:
        """Turn an earlier message (the question a button answered) into ``reply``.

        False when it cannot be: a reply with pictures or longer than one message, or a
        message Telegram will not edit; the caller then sends it as a new one.
        """
        if reply.images or len(reply.text) > TEXT_LIMIT:
            return False
        params: dict[str, Any] = {
            "chat_id": chat_number(chat_id),
            "message_id": message_id,
            "text": reply.text,
        }
        if markup := keyboard_json(reply.buttons):
            params["reply_markup"] = markup
        try:
            await self._paced(chat_id, partial(self._call, "editMessageText", params))
        except BadRequest as bad:
            if "not modified" in str(bad).lower():
                return True  # it already says exactly this
            log.debug("editMessageText in chat %s: %s", chat_id, bad)
            return False
        return True

    async def strip(self, chat_id: str, message_id: int) -> None:
        """Take the buttons off an answered question, so that none is pressed twice."""
        strip = partial(
            self._call,
            "editMessageReplyMarkup",
            {"chat_id": chat_number(chat_id), "message_id": message_id},
        )
        try:
            await self._paced(chat_id, strip)
        except (TelegramError, Refused) as error:  # gone, or already without buttons
            log.debug("editMessageReplyMarkup in chat %s: %s", chat_id, error)

    async def _room(self, chat_id: str, messages: int) -> None:
        """Wait until ``messages`` may go to this chat and overall. One at a time: a bucket
        takes no more at once than it holds, and an album may hold more."""
        chat = self._limiter(chat_id)
        for _ in range(messages):
            await chat.acquire()
        for _ in range(messages):
            await self._everyone.acquire()

    async def _paced(self, chat_id: str, call: Callable[[], Awaitable[T]], *, weight: int = 1) -> T:
        """One Bot API call within the limits (``weight`` messages of them: an album's
        photos), waiting out a 429 in this chat only."""
        for attempt in range(self.max_retries + 1):
            await self._room(chat_id, weight)
            try:
                return await call()
            except RetryAfter as flood:
                wait = flood.retry_after
                seconds = wait if isinstance(wait, int | float) else wait.total_seconds()
                log.warning("telegram 429 for chat %s, retry in %ss", chat_id, seconds)
                if attempt == self.max_retries:
                    raise
            except Forbidden as refused:
                raise Refused(str(refused)) from refused
            except BadRequest as bad:
                if "chat not found" in str(bad).lower():
                    raise Refused(str(bad)) from bad
                raise
            await asyncio.sleep(seconds)  # only this chat waits
        raise RuntimeError("unreachable")

"""Sending to Telegram within its limits, one chat never holding up the others.

Telegram allows about 30 messages a second overall, one a second in a private
chat and 20 a minute in a group. PTB's AIORateLimiter has no per-private-chat
limit and pauses every chat on one 429, so wuye keeps its own: a global bucket,
a bucket per chat, and a 429's ``retry_after`` obeyed by the chat that got it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from pathlib import Path

from aiolimiter import AsyncLimiter
from telegram import Bot, Message
from telegram.error import BadRequest, Forbidden, RetryAfter

from bot.telegram.wire import keyboard, split_text
from conversations.messages import Reply

log = logging.getLogger(__name__)


class Undeliverable(Exception):
    """Telegram refuses this chat for good (the user blocked the bot, the chat is gone)."""


class TelegramSender:
    def __init__(
        self,
        bot: Bot,
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

    async def send(self, chat_id: str, reply: Reply) -> list[Message]:
        pieces = split_text(reply.text)
        sent = []
        for image in reply.images:  # a chart first, then the words about it
            async with self._limiter(chat_id), self._everyone:
                try:
                    with Path(image).open("rb") as photo:
                        sent.append(await self.bot.send_photo(chat_id=chat_id, photo=photo))
                except Forbidden as refused:
                    raise Undeliverable(str(refused)) from refused
        for number, piece in enumerate(pieces, 1):
            # Buttons go with the last piece, under the question they answer.
            markup = keyboard(reply.buttons) if number == len(pieces) else None
            sent.append(await self._call(chat_id, piece, markup))
        return sent

    async def _call(self, chat_id: str, text: str, markup: object) -> Message:
        for attempt in range(self.max_retries + 1):
            async with self._limiter(chat_id), self._everyone:
                try:
                    return await self.bot.send_message(
                        chat_id=chat_id,
                        text=text,
                        reply_markup=markup,  # type: ignore[arg-type]
                    )
                except RetryAfter as flood:
                    wait = flood.retry_after
                    seconds = wait if isinstance(wait, int | float) else wait.total_seconds()
                    log.warning("telegram 429 for chat %s, retry in %ss", chat_id, seconds)
                    if attempt == self.max_retries:
                        raise
                except Forbidden as refused:
                    raise Undeliverable(str(refused)) from refused
                except BadRequest as bad:
                    if "chat not found" in str(bad).lower():
                        raise Undeliverable(str(bad)) from bad
                    raise
            await asyncio.sleep(seconds)  # only this chat waits
        raise RuntimeError("unreachable")

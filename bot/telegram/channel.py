"""The Telegram channel: an Update in (webhook or long polling), the engine's replies out."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from dataclasses import replace
from functools import partial
from typing import Any, ClassVar

import typer
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from telegram import BotCommand
from telegram.error import BadRequest, TelegramError

from bot.channel import MAX_BODY, Refused
from bot.inbox import Inbox, Kept
from bot.metrics import measured
from bot.telegram.sender import TelegramSender, WuyeBot
from bot.telegram.transport import AiohttpRequest
from bot.telegram.wire import ALLOWED_UPDATES, PLATFORM, read_update
from conversations.engine import Answer, Engine, commands_of
from conversations.messages import Incoming, Reply
from storage.attachment.files import AttachmentRefused, Refusal, Shelf
from storage.attachment.models import AttachmentKind
from storage.config import Settings
from storage.i18n import translator

log = logging.getLogger(__name__)

# Telegram takes two-letter language codes only: "zh" cannot tell Hans from Hant, so the
# default (no code) and "zh" get zh-Hans, "en" gets English.
COMMAND_LANGUAGES = ((None, "zh_Hans"), ("zh", "zh_Hans"), ("en", "en"))


def make_bot(settings: Settings) -> WuyeBot:
    if settings.telegram_token is None:
        raise ValueError("WUYE_TELEGRAM_TOKEN is not set")
    base = settings.telegram_api_base_url
    return WuyeBot(
        settings.telegram_token.get_secret_value(),
        base_url=f"{base}/bot",
        base_file_url=f"{base}/file/bot",
        request=AiohttpRequest(connection_pool_size=64),
        get_updates_request=AiohttpRequest(read_timeout=40),
    )


class TelegramChannel:
    platform: ClassVar[str] = PLATFORM
    preferred: ClassVar[bool] = False
    commands: ClassVar[typer.Typer | None] = None

    @classmethod
    def configure(cls, settings: Settings, engine: Engine) -> TelegramChannel | None:
        if settings.telegram_token is None:
            return None
        return cls(bot=make_bot(settings), engine=engine, settings=settings)

    def __init__(self, *, bot: WuyeBot, engine: Engine, settings: Settings) -> None:
        self.bot = bot
        self.engine = engine
        self.settings = settings
        self.sender = TelegramSender(
            bot,
            per_second=settings.telegram_messages_per_second,
            chat_per_second=settings.telegram_chat_messages_per_second,
            chat_burst=settings.telegram_chat_burst,
        )
        self.username = ""
        self.inbox = Inbox(engine, platform=PLATFORM)
        self.shelf = Shelf.of(settings, PLATFORM)

    def routes(self) -> list[BaseRoute]:
        return [Route("/telegram/webhook", self.webhook, methods=["POST"])]

    async def start(self) -> None:
        """Served by the web app: ready to send, the inbox drained, and the webhook set
        when wuye has a public address."""
        await self._prepare()
        self.inbox.start()
        if self.settings.public_url is not None:
            await self.set_webhook()

    async def _prepare(self) -> None:
        """Ready to send, with the commands listed in every language."""
        await self.bot.initialize()
        self.username = self.bot.username
        for code, locale in COMMAND_LANGUAGES:
            t = translator(locale)
            commands = [
                BotCommand(c.key, t(c.label)) for c in commands_of(self.engine.flows.values())
            ]
            await self.bot.set_my_commands(commands, language_code=code)

    async def set_webhook(self) -> None:
        if self.settings.public_url is None or self.settings.telegram_webhook_secret is None:
            raise ValueError("the webhook needs WUYE_PUBLIC_URL and WUYE_TELEGRAM_WEBHOOK_SECRET")
        await self.bot.set_webhook(
            url=f"{self.settings.public_url}/telegram/webhook",
            secret_token=self.settings.telegram_webhook_secret.get_secret_value(),
            allowed_updates=list(ALLOWED_UPDATES),
        )

    async def stop(self) -> None:
        await self.inbox.stop()
        await self.bot.shutdown()

    async def webhook(self, request: Request) -> Response:
        return await measured(PLATFORM, self._webhook, request)

    async def _webhook(self, request: Request) -> Response:
        secret = self.settings.telegram_webhook_secret
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if secret is None or not hmac.compare_digest(
            given.encode(), secret.get_secret_value().encode()
        ):
            return Response(status_code=403)
        if int(request.headers.get("content-length") or 0) > MAX_BODY:
            return Response(status_code=413)
        body = await request.body()
        if len(body) > MAX_BODY:
            return Response(status_code=413)
        try:
            data = json.loads(body)
        except ValueError:
            return Response(status_code=400)
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return Response(status_code=400)
        call = await self.handle(data, webhook=True)
        return JSONResponse(call) if call is not None else Response(status_code=200)

    async def handle(self, data: dict[str, Any], *, webhook: bool = False) -> dict[str, Any] | None:
        """Handle one Update; for a webhook, returns the Bot API call to make in its response.

        Telegram makes the call it finds in a webhook's response ("Making requests when
        getting updates"): answering a button press that way saves a request per press.
        Its result is never known, and answering a press needs none.
        """
        read = read_update(data, self.username)
        in_response: dict[str, Any] | None = None
        if read.query_id is not None:
            if webhook:
                in_response = {"method": "answerCallbackQuery", "callback_query_id": read.query_id}
            else:
                await self._answer(read.query_id)
        incoming, pressed = read.incoming, read.pressed
        if incoming is None:
            return in_response
        incoming = await self._download(incoming)
        taken = await self.inbox.take(
            incoming, partial(self.answer, incoming.chat_id, answering=pressed)
        )
        if isinstance(taken, Kept) and taken.notice is not None:
            await self._tell(incoming.chat_id, taken.notice)  # taken later, answered then
        return in_response

    async def send(self, chat_id: str, reply: Reply) -> None:
        await self.sender.send(chat_id, reply)

    async def answer(self, chat_id: str, answer: Answer, *, answering: int | None = None) -> None:
        """Send the replies, then confirm them; those to a button press start in the message
        it was pressed in.

        The question that was answered becomes what follows it (the next question, or the
        outcome), as a form turns its page: one call instead of two, and no old buttons
        left to press. What cannot be put there is sent, and the old buttons taken away.
        What cannot be sent now is the dispatcher's, with retries (choices and all).
        """
        sent, reason, refused = 0, "", False
        for reply in answer.replies:
            try:
                if answering is not None and sent == 0:
                    if not await self.sender.replace(chat_id, answering, reply):
                        await self.sender.strip(chat_id, answering)
                        await self.sender.send(chat_id, reply)
                else:
                    await self.sender.send(chat_id, reply)
            except Refused as refusal:
                log.info("telegram chat %s cannot be reached: %s", chat_id, refusal)
                reason, refused = f"telegram: {refusal}", True
                break
            except TelegramError as error:  # the transport makes every network error one
                log.warning("reply to telegram chat %s deferred: %s", chat_id, error)
                reason = f"telegram: {error}"
                break
            sent += 1
        if sent == len(answer.kept):
            self.inbox.confirmed(answer.kept)
        elif answer.kept:
            await self.inbox.confirm(
                partial(self.engine.settle, answer, sent=sent, reason=reason, refused=refused)
            )

    async def _tell(self, chat_id: str, reply: Reply) -> None:
        """Say something now, without the database (it may be what is failing)."""
        try:
            await self.sender.send(chat_id, reply)
        except Exception as error:  # it only said "received, please wait"
            log.info("could not tell telegram chat %s: %s", chat_id, error)

    async def _answer(self, query_id: str) -> None:
        """Stop the spinner on the pressed button."""
        try:
            await self.sender.unread("answerCallbackQuery", {"callback_query_id": query_id})
        except TelegramError as error:  # too old, or answered by the first delivery
            log.debug("answerCallbackQuery: %s", error)

    async def _download(self, incoming: Incoming) -> Incoming:
        """Keep the message's photo and voice note: a Telegram link is not forever.

        Each is checked and named by its content (storage.attachment.files), never by the
        file_unique_id Telegram sends. One refused is dropped and its reason passed on for
        the engine to tell the sender; one that cannot be fetched now keeps its file id.
        """
        if not incoming.photos and not incoming.voice:
            return incoming
        refused: list[str] = []

        async def fetch(file_id: str, kind: AttachmentKind) -> str | None:
            try:
                file = await self.bot.get_file(file_id)
                self.shelf.admit(file.file_size)  # before the download, when Telegram says
                data = bytes(await file.download_as_bytearray())
                kept = await asyncio.to_thread(self.shelf.keep, data, kind=kind)
                return str(kept)
            except AttachmentRefused as refusal:
                log.info("telegram file %s refused: %s", file_id, refusal)
                refused.append(refusal.reason.value)
                return None
            except (TelegramError, OSError) as error:
                if isinstance(error, BadRequest) and "too big" in error.message.lower():
                    # Over the Bot API's own 20 MB: getFile refuses it, with no size given.
                    log.info("telegram file %s refused: %s", file_id, error)
                    refused.append(Refusal.TOO_LARGE.value)
                    return None
                log.warning("could not download telegram file %s: %s", file_id, error)
                return f"telegram:{file_id}"

        photos = [await fetch(file_id, AttachmentKind.PHOTO) for file_id in incoming.photos]
        voice = await fetch(incoming.voice, AttachmentKind.VOICE) if incoming.voice else None
        return replace(
            incoming,
            photos=tuple(ref for ref in photos if ref is not None),
            voice=voice,
            refused=(*incoming.refused, *refused),
        )

    async def poll(self, stop: asyncio.Event) -> None:
        """Long polling, for a company with no public address: instead of ``start``."""
        await self._prepare()
        self.inbox.start()
        await self.bot.delete_webhook()
        offset: int | None = None
        while not stop.is_set():
            fetching = asyncio.ensure_future(
                self.bot.get_updates(
                    offset=offset, timeout=25, allowed_updates=list(ALLOWED_UPDATES)
                )
            )
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({fetching, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not fetching.done():  # asked to stop in the middle of a long poll
                fetching.cancel()
                break
            try:
                updates = fetching.result()
            except TelegramError as error:
                log.warning("getUpdates failed: %s", error)
                await asyncio.sleep(3)
                continue
            for update in updates:
                offset = update.update_id + 1
                await self.handle(update.to_dict())

"""A fake Bot API server: records every call and answers the way Telegram does."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

BOT = {
    "id": 999,
    "is_bot": True,
    "first_name": "物业服务",
    "username": "wuye_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


PICTURES = ("sendPhoto", "sendMediaGroup")


def _json_or_text(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float  # time.monotonic()
    ok: bool = True  # False when answered with an error (429, 403)


@dataclass
class FakeTelegram:
    url: str = ""  # where it listens, once served
    calls: list[Call] = field(default_factory=list)
    flood: int = 0  # answer this many calls of the methods ``flooded`` with 429
    flooded: set[str] = field(default_factory=lambda: {"sendMessage"})
    retry_after: int = 1
    blocked: set[str] = field(default_factory=set)  # chat ids whose users blocked the bot
    down: set[str] = field(default_factory=set)  # chat ids for which Telegram answers 502
    # Chat ids whose messages hang unanswered (until taken out): a send the server dies in.
    hang: set[str] = field(default_factory=set)
    files: dict[str, bytes] = field(default_factory=dict)
    forgotten: set[str] = field(default_factory=set)  # file ids sendPhoto refuses with 400
    # What getFile says of a file instead of the usual: e.g. its file_unique_id, file_size.
    file_info: dict[str, dict[str, Any]] = field(default_factory=dict)
    downloads: list[str] = field(default_factory=list)  # file ids fetched from /file/
    updates: list[dict[str, Any]] = field(default_factory=list)  # what getUpdates hands out
    # The chats as their users see them: chat id -> message id -> text and keyboard.
    messages: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    uneditable: set[int] = field(default_factory=set)  # message ids Telegram will not edit
    # Telegram's own limits, enforced with 429s: 30 a second overall, 1 a second per chat.
    enforce_limits: bool = False
    _recent: list[tuple[float, str]] = field(default_factory=list)
    delivered: threading.Event = field(default_factory=threading.Event)  # a sendMessage went
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/bot{token}/{method}", self._api, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._file),
            ]
        )

    def sent(self, chat_id: int | str | None = None) -> list[dict[str, Any]]:
        """What was delivered: sendMessage calls that Telegram accepted."""
        return [
            c.params
            for c in self.calls
            if c.method == "sendMessage"
            and c.ok
            and (chat_id is None or str(c.params["chat_id"]) == str(chat_id))
        ]

    def texts(self, chat_id: int | str) -> list[str]:
        """What appeared in the chat, in order: each message sent, each text edited in."""
        return [
            str(c.params["text"])
            for c in self.calls
            if c.method in ("sendMessage", "editMessageText")
            and c.ok
            and str(c.params["chat_id"]) == str(chat_id)
        ]

    def with_button(
        self, chat_id: int | str, label: str | None = None, *, data: str | None = None
    ) -> tuple[int, dict[str, Any]] | None:
        """The newest message in the chat showing a button with this label (or its start)
        or this callback data, and the button."""
        with self._lock:
            shown = sorted(self.messages.get(str(chat_id), {}).items(), reverse=True)
        for message_id, message in shown:
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    text = button["text"]
                    if (label is not None and text.startswith(label)) or (
                        data is not None and button["callback_data"] == data
                    ):
                        return message_id, button
        return None

    def made_in_response(self, method: str, params: dict[str, Any]) -> None:
        """A call carried in a webhook's response: Telegram makes it itself, without an
        HTTP request to itself (so a load generator playing Telegram pays none). Only
        answerCallbackQuery is carried, and answering a press always succeeds."""
        if method != "answerCallbackQuery":
            raise ValueError(f"{method} is not carried in a webhook's response")
        with self._lock:
            self.calls.append(Call(method, params, time.monotonic()))

    def methods(self) -> list[str]:
        return [c.method for c in self.calls]

    def pictures(self, chat_id: int | str) -> list[tuple[str, list[bytes | str]]]:
        """The pictures delivered to the chat, as the calls that carried them: sendPhoto or
        sendMediaGroup, and each item's uploaded bytes (or the file id it named)."""
        return [
            (c.method, [self._item(c, photo) for photo in c.params.get("items", [])])
            for c in self.calls
            if c.method in PICTURES and c.ok and str(c.params["chat_id"]) == str(chat_id)
        ]

    def shown(self, chat_id: int | str) -> list[str]:
        """Everything that went to the chat, in order: "[sendPhoto 1]" or
        "[sendMediaGroup 2]" for pictures, and each text."""
        return [
            f"[{c.method} {len(c.params['items'])}]" if c.method in PICTURES else c.params["text"]
            for c in self.calls
            if c.method in (*PICTURES, "sendMessage")
            and c.ok
            and str(c.params["chat_id"]) == str(chat_id)
        ]

    @staticmethod
    def _item(call: Call, photo: str) -> bytes | str:
        attached = photo.removeprefix("attach://")
        return call.params["files"][attached] if photo != attached else photo

    async def _params(self, request: Request) -> dict[str, Any]:
        kind = request.headers.get("content-type", "")
        if kind.startswith("application/json"):
            params = dict(await request.json())
        elif kind.startswith("multipart/form-data"):  # a file upload (sendPhoto, an album)
            params = self._multipart(kind, await request.body())
        else:  # PTB posts url-encoded forms whose values are JSON where not plain strings
            params = {
                key: _json_or_text(value)
                for key, value in parse_qsl((await request.body()).decode(), keep_blank_values=True)
            }
        if "photo" in params:  # what each picture call carried, the same way for both
            params["items"] = [params["photo"]]
        elif isinstance(params.get("media"), list):
            params["items"] = [item["media"] for item in params["media"]]
        return params

    @staticmethod
    def _multipart(kind: str, body: bytes) -> dict[str, Any]:
        """The form's fields (JSON where they are), and its files by field name."""
        form = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + kind.encode() + b"\r\n\r\n" + body
        )
        params: dict[str, Any] = {"files": {}, "upload_bytes": len(body)}
        for part in form.iter_parts():
            name = str(part.get_param("name", header="content-disposition"))
            content = part.get_payload(decode=True)
            assert isinstance(content, bytes)
            if part.get_filename() is not None:
                params["files"][name] = content
                if name == "photo":
                    params["photo"] = f"attach://{name}"
            else:
                params[name] = _json_or_text(content.decode())
        return params

    async def _api(self, request: Request) -> Response:
        method = request.path_params["method"]
        params = await self._params(request)
        with self._lock:
            call = Call(method, params, time.monotonic())
            self.calls.append(call)
            if method == "sendMessage" and self.enforce_limits and self._over_limit(call):
                call.ok = False
                return JSONResponse(
                    {
                        "ok": False,
                        "error_code": 429,
                        "description": "Too Many Requests: retry after 1",
                        "parameters": {"retry_after": 1},
                    },
                    status_code=429,
                )
            hangs = str(params.get("chat_id")) in self.hang
        if hangs:
            call.ok = False
            while str(params.get("chat_id")) in self.hang:
                await asyncio.sleep(0.05)
            return JSONResponse({"ok": False, "error_code": 502}, status_code=502)
        with self._lock:
            if str(params.get("chat_id")) in self.down:
                call.ok = False
                return JSONResponse(
                    {"ok": False, "error_code": 502, "description": "Bad Gateway"},
                    status_code=502,
                )
            if method in self.flooded and self.flood > 0:
                self.flood -= 1
                call.ok = False
                return JSONResponse(
                    {
                        "ok": False,
                        "error_code": 429,
                        "description": f"Too Many Requests: retry after {self.retry_after}",
                        "parameters": {"retry_after": self.retry_after},
                    },
                    status_code=429,
                )
            if method in (*PICTURES, "sendMessage") and str(params["chat_id"]) in self.blocked:
                call.ok = False
                return JSONResponse(
                    {
                        "ok": False,
                        "error_code": 403,
                        "description": "Forbidden: bot was blocked by the user",
                    },
                    status_code=403,
                )
            if method in PICTURES and self.forgotten & set(map(str, params.get("items", []))):
                call.ok = False  # a file id Telegram no longer knows
                return JSONResponse(
                    {
                        "ok": False,
                        "error_code": 400,
                        "description": "Bad Request: wrong file identifier/HTTP URL specified",
                    },
                    status_code=400,
                )
            if method.startswith("editMessage"):
                refusal = self._edit(params, text=method == "editMessageText")
                if refusal is not None:
                    call.ok = False
                    return JSONResponse(
                        {"ok": False, "error_code": 400, "description": f"Bad Request: {refusal}"},
                        status_code=400,
                    )
        if method == "getUpdates" and not self._result(method, params):
            await asyncio.sleep(0.05)  # a long poll with nothing new: do not spin the client
        if method == "sendMessage":
            self.delivered.set()
        return JSONResponse({"ok": True, "result": self._result(method, params)})

    def _edit(self, params: dict[str, Any], *, text: bool) -> str | None:
        """Edit a message the way Telegram does, or say why Telegram would not."""
        chat, message_id = str(params["chat_id"]), int(params["message_id"])
        message = self.messages.get(chat, {}).get(message_id)
        if message is None:
            return "message to edit not found"
        if message_id in self.uneditable:
            return "message can't be edited"
        edited = {
            "text": params["text"] if text else message["text"],
            "reply_markup": params.get("reply_markup") or None,
        }
        if edited == message:
            return (
                "message is not modified: specified new message content and reply markup "
                "are exactly the same as a current content and reply markup of the message"
            )
        self.messages[chat][message_id] = edited
        return None

    def _over_limit(self, call: Call) -> bool:
        """More than 30 sends in any second, or more than 3 to one chat in 3 seconds."""
        chat = str(call.params.get("chat_id"))
        self._recent = [(at, c) for at, c in self._recent if call.at - at < 3.0]
        last_second = sum(1 for at, _ in self._recent if call.at - at < 1.0)
        this_chat = sum(1 for _, c in self._recent if c == chat)
        if last_second >= 30 or this_chat >= 3:
            return True
        self._recent.append((call.at, chat))
        return False

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT
        if method in ("sendMessage", "sendPhoto"):
            return self._message(str(params["chat_id"]), self._show(params))
        if method == "sendMediaGroup":  # a message for each photo of the album
            chat = str(params["chat_id"])
            return [self._message(chat, self._show(params)) for _ in params["items"]]
        if method.startswith("editMessage"):
            return self._message(str(params["chat_id"]), int(params["message_id"]))
        if method == "getFile":
            file_id = str(params["file_id"])
            return {
                "file_id": file_id,
                "file_unique_id": f"uniq-{file_id}",
                "file_size": len(self.files.get(file_id, b"")),
                "file_path": f"photos/{file_id}.jpg",
            } | self.file_info.get(file_id, {})
        if method == "getUpdates":
            offset = int(params.get("offset") or 0)
            return [u for u in self.updates if u["update_id"] >= offset]
        return True

    def _show(self, params: dict[str, Any]) -> int:
        """A new message in the chat; its id."""
        message_id = next(self._ids)
        with self._lock:
            self.messages.setdefault(str(params["chat_id"]), {})[message_id] = {
                "text": params.get("text", ""),
                "reply_markup": params.get("reply_markup") or None,
            }
        return message_id

    def _message(self, chat_id: str, message_id: int) -> dict[str, Any]:
        shown = self.messages[chat_id][message_id]
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": int(chat_id), "type": "private"},
            "from": BOT,
            "text": shown["text"],
        }
        if shown["reply_markup"]:
            message["reply_markup"] = shown["reply_markup"]
        return message

    async def _file(self, request: Request) -> Response:
        file_id = request.path_params["path"].rsplit("/", 1)[-1].removesuffix(".jpg")
        self.downloads.append(file_id)
        if file_id not in self.files:
            return Response(status_code=404)
        return Response(self.files[file_id], media_type="image/jpeg")

"""Translation between Telegram's wire format and wuye's neutral messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conversations.messages import Button, Incoming, Location

PLATFORM = "telegram"
TEXT_LIMIT = 4096  # Telegram's limit for one message's text
CALLBACK_DATA_LIMIT = 64  # bytes
ALLOWED_UPDATES = ("message", "callback_query")
PRIVATE = "private"


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at line ends where possible."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > limit // 2 else limit
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n")
    return [*pieces, text] if text or not pieces else pieces


def chat_number(chat_id: str) -> int | str:
    """A chat as the Bot API's JSON names it: its number (wuye keeps every platform's chat
    ids as text), or a public ``@username`` as it is."""
    return int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id


def keyboard_json(buttons: tuple[Button, ...]) -> dict[str, Any] | None:
    """One button a row (labels are long, Chinese, read on a phone); keys must fit 64 bytes.
    As the Bot API's JSON: the calls are made without building PTB objects."""
    rows = [
        [{"text": button.label, "callback_data": button.key}]
        for button in buttons
        if len(button.key.encode()) <= CALLBACK_DATA_LIMIT
    ]
    return {"inline_keyboard": rows} if rows else None


def _addressed(text: str, bot_username: str) -> str | None:
    """In a group, the command text addressed to this bot without its @name, else None."""
    if not text.startswith("/"):
        return None
    command, _, rest = text.partition(" ")
    name, _, target = command.partition("@")
    if target.casefold() != bot_username.casefold():
        return None
    return f"{name} {rest}".strip()


@dataclass(frozen=True)
class Read:
    """What an Update says, read straight from its JSON (PTB's ``Update.de_json`` builds an
    object tree wuye reads four fields of): the neutral message, and for a button press the
    query to answer and the message whose button it was (None when Telegram no longer
    shows it)."""

    incoming: Incoming | None
    query_id: str | None = None
    pressed: int | None = None


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _number(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def read_update(data: dict[str, Any], bot_username: str) -> Read:
    """The Update ``data`` (already checked to carry an ``update_id``) as wuye needs it.
    Anything it does not answer (an edit, a channel post, a bot, a shape it does not know)
    is ``Read(None)``."""
    update_id = data["update_id"]
    query = data.get("callback_query")
    if isinstance(query, dict):
        return _press(query, update_id)
    message = data.get("message")
    if not isinstance(message, dict):
        return Read(None)
    sender, chat = _object(message.get("from")), _object(message.get("chat"))
    user_id, chat_id = _number(sender.get("id")), _number(chat.get("id"))
    if user_id is None or chat_id is None or sender.get("is_bot"):
        return Read(None)
    text = message.get("text") or message.get("caption") or ""
    if not isinstance(text, str):
        return Read(None)
    if chat.get("type") != PRIVATE:
        addressed = _addressed(text, bot_username)
        if addressed is None:
            return Read(None)  # in groups, only commands addressed to the bot
        text = addressed
    sizes = message.get("photo")
    photos: tuple[str, ...] = ()
    if isinstance(sizes, list) and sizes and isinstance(sizes[-1], dict):
        photos = (str(sizes[-1].get("file_id", "")),)  # the largest size
    voice = _object(message.get("voice")).get("file_id")
    return Read(
        Incoming(
            platform=PLATFORM,
            chat_id=str(chat_id),
            user_id=str(user_id),
            message_id=f"u{update_id}",
            text=text,
            photos=tuple(p for p in photos if p),
            voice=str(voice) if voice else None,
            location=_location(message),
            language=_language(sender),
        )
    )


def _press(query: dict[str, Any], update_id: int) -> Read:
    sender = _object(query.get("from"))
    user_id = _number(sender.get("id"))
    if user_id is None:
        return Read(None)
    shown = _object(query.get("message"))
    chat_id = _number(_object(shown.get("chat")).get("id")) or user_id
    # A message Telegram no longer shows comes as an InaccessibleMessage: its date is 0.
    pressed = _number(shown.get("message_id")) if shown.get("date") else None
    data = query.get("data")
    return Read(
        Incoming(
            platform=PLATFORM,
            chat_id=str(chat_id),
            user_id=str(user_id),
            message_id=f"u{update_id}",
            button=data if isinstance(data, str) else "",
            language=_language(sender),
        ),
        query_id=str(query.get("id", "")) or None,
        pressed=pressed,
    )


def _language(sender: dict[str, Any]) -> str | None:
    code = sender.get("language_code")
    return code if isinstance(code, str) else None


def _location(message: dict[str, Any]) -> Location | None:
    venue = _object(message.get("venue"))
    place = _object(venue.get("location")) or _object(message.get("location"))
    latitude, longitude = place.get("latitude"), place.get("longitude")
    if not isinstance(latitude, int | float) or not isinstance(longitude, int | float):
        return None
    title = venue.get("title")
    return Location(float(latitude), float(longitude), title if isinstance(title, str) else None)

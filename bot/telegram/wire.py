"""Translation between Telegram's wire format and wuye's neutral messages."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

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


def keyboard(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
    """One button a row (labels are long, Chinese, read on a phone); keys must fit 64 bytes."""
    rows = [
        [InlineKeyboardButton(button.label, callback_data=button.key)]
        for button in buttons
        if len(button.key.encode()) <= CALLBACK_DATA_LIMIT
    ]
    return InlineKeyboardMarkup(rows) if rows else None


def _addressed(text: str, bot_username: str) -> str | None:
    """In a group, the command text addressed to this bot without its @name, else None."""
    if not text.startswith("/"):
        return None
    command, _, rest = text.partition(" ")
    name, _, target = command.partition("@")
    if target.casefold() != bot_username.casefold():
        return None
    return f"{name} {rest}".strip()


def to_incoming(update: Update, bot_username: str) -> Incoming | None:
    """The neutral message an update stands for, or None when wuye should not answer it."""
    if update.callback_query is not None:
        query = update.callback_query
        chat = query.message.chat if query.message is not None else None
        return Incoming(
            platform=PLATFORM,
            chat_id=str(chat.id if chat is not None else query.from_user.id),
            user_id=str(query.from_user.id),
            message_id=f"u{update.update_id}",
            button=query.data or "",
            language=query.from_user.language_code,
        )
    message = update.message
    if message is None or message.from_user is None or message.from_user.is_bot:
        return None
    text = message.text or message.caption or ""
    if message.chat.type != PRIVATE:
        addressed = _addressed(text, bot_username)
        if addressed is None:
            return None  # in groups, only commands addressed to the bot
        text = addressed
    photos: tuple[str, ...] = ()
    if message.photo:
        photos = (message.photo[-1].file_id,)  # the largest size
    location = (
        Location(message.location.latitude, message.location.longitude)
        if message.location is not None
        else None
    )
    if message.venue is not None:
        location = Location(
            message.venue.location.latitude, message.venue.location.longitude, message.venue.title
        )
    return Incoming(
        platform=PLATFORM,
        chat_id=str(message.chat.id),
        user_id=str(message.from_user.id),
        message_id=f"u{update.update_id}",
        text=text,
        photos=photos,
        voice=message.voice.file_id if message.voice is not None else None,
        location=location,
        language=message.from_user.language_code,
    )

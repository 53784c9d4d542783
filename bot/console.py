"""The console channel: the flows in a terminal, one message per line.

A number presses the numbered button of the last reply (as on WeChat's text
menus); a path to an image, or ``/photo PATH``, sends a photo; ``/location
LAT,LON`` a location; ``/user NAME`` continues as another chat identity;
``/quit`` (or end of input) leaves.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from bot.channel import SendOnly
from conversations.engine import Engine
from conversations.messages import Button, Incoming, Location, Reply
from storage.attachment.files import AttachmentRefused, Shelf
from storage.attachment.models import AttachmentKind

log = logging.getLogger(__name__)

PLATFORM = "console"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic")


def render(reply: Reply) -> str:
    lines = [reply.text]
    lines += [f"  {number}) {button.label}" for number, button in enumerate(reply.buttons, 1)]
    lines += [f"  [图片] {image}" for image in reply.images]
    return "\n".join(lines)


@dataclass
class Console:
    engine: Engine
    user: str
    write: Callable[[str], None] = print
    buttons: list[Button] = field(default_factory=list)
    after: Callable[[], object] | None = None  # e.g. deliver the notices a line caused

    def incoming(self, line: str) -> Incoming | None:
        """The neutral message a typed line stands for, or None for a console-only command."""
        line = line.strip()
        if line.startswith("/user "):
            self.user, self.buttons = line.split(" ", 1)[1].strip(), []
            self.write(f"(now chatting as {self.user})")
            return None
        if line.isdigit() and 1 <= int(line) <= len(self.buttons):
            return self._message(button=self.buttons[int(line) - 1].key)
        if line.startswith("/photo "):
            return self._photo(line.split(" ", 1)[1].strip())
        if line.lower().endswith(IMAGE_SUFFIXES) and Path(line).expanduser().is_file():
            return self._photo(line)
        if line.startswith("/location "):
            try:
                latitude, longitude = (float(x) for x in line.split(" ", 1)[1].split(","))
            except ValueError:
                self.write("(usage: /location 31.2304,121.4737)")
                return None
            return self._message(location=Location(latitude, longitude))
        return self._message(text=line)

    def _message(self, **fields: Any) -> Incoming:
        return Incoming(
            platform=PLATFORM,
            chat_id=self.user,
            user_id=self.user,
            message_id=uuid.uuid4().hex,
            **fields,
        )

    def _photo(self, path: str) -> Incoming | None:
        """A file from this computer, checked and kept as a platform's download is: named
        by its content, its type read from its bytes, its location stripped."""
        photo = Path(path).expanduser()
        if not photo.is_file():
            self.write(f"(no such file: {path})")
            return None
        shelf = Shelf.of(self.engine.db.settings, PLATFORM)
        try:
            shelf.admit(photo.stat().st_size)
            kept = shelf.keep(photo.read_bytes(), kind=AttachmentKind.PHOTO)
        except AttachmentRefused as refusal:
            return self._message(refused=(refusal.reason.value,))
        return self._message(photos=(str(kept),))

    def offered(self, chat_id: str, buttons: list[Button]) -> None:
        """A notice with buttons reached this chat: a number now presses one of them."""
        if chat_id == self.user:
            self.buttons = buttons

    def say(self, line: str) -> list[Reply]:
        message = self.incoming(line)
        if message is None:
            return []
        try:
            answer = self.engine.handle(message)
        except Exception:
            log.exception("message %s failed", message.message_id)
            self.write(render(self.engine.apology(message)))
            return []
        replies = list(answer.replies)
        for reply in replies:
            self.write(render(reply))
        self.engine.settle(answer, sent=len(replies))  # printed: delivered
        if replies:  # a number answers the latest question: its buttons, or none
            self.buttons = [b for reply in replies for b in reply.buttons]
        if self.after is not None:
            self.after()
        return replies

    def run(self, lines: Iterable[str]) -> None:
        for line in lines:
            if line.strip() in ("/quit", "/exit"):
                return
            if line.strip():
                self.say(line)


class ConsoleChannel(SendOnly):
    """Notices for the console's chat identities, printed in the terminal."""

    platform: ClassVar[str] = PLATFORM

    def __init__(
        self,
        write: Callable[[str], None] = print,
        offered: Callable[[str, list[Button]], None] | None = None,
    ) -> None:
        self.write = write
        # A notice's buttons are numbered as a reply's are, and the console's numbers then
        # press them (as the engine takes a number on WeChat), for the chat it reached.
        self.offered = offered

    async def send(self, chat_id: str, reply: Reply) -> None:
        self.write(f"  [通知 → {chat_id}] " + render(reply).replace("\n", "\n    "))
        if reply.buttons and self.offered is not None:
            self.offered(chat_id, list(reply.buttons))

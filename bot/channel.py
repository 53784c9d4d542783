"""The one interface every platform implements, and the registry of the platforms.

A channel turns its platform's messages into the engine's neutral ``Incoming`` (through
the routes it adds to the web app) and renders the engine's ``Reply`` its own way when
it ``send``s. A person who cannot be reached on it (they blocked the bot, unfollowed the
account, are unknown to the company's WeCom) is ``Refused``; anything else that goes
wrong is worth another try, and the outbox dispatcher makes it.

Adding a platform: its folder under ``bot/`` with a channel class (``configure`` returns
None when its settings are not given), one line in ``bot/channels.py``, its settings in
``storage/config.py``, a fake of its API in ``tests/bot/`` and its tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Protocol

import typer
from starlette.routing import BaseRoute

from conversations.messages import Reply

if TYPE_CHECKING:
    from conversations.engine import Engine
    from storage.config import Settings

# A platform's update is a few KB; anything near a megabyte is not from it.
MAX_BODY = 1 << 20


class Refused(Exception):
    """The platform will not deliver to this chat, now or later; the reason is the message."""


class Channel(Protocol):
    # The channel's name, as chat accounts and conversations record it: "telegram".
    platform: ClassVar[str]
    # Reached before a person's other chats: the company's own app, where staff read work.
    preferred: ClassVar[bool]

    def routes(self) -> list[BaseRoute]:
        """What it adds to the web app: its webhook."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None:
        """Stop taking messages, and finish what was taken."""
        ...

    async def send(self, chat_id: str, reply: Reply) -> None:
        """Deliver a reply or a notice; raises ``Refused`` when this chat cannot be reached."""
        ...


class Configure(Protocol):
    """A platform as the registry knows it: its name, its channel from the settings, and
    the ``wuye <platform> …`` commands of its own (the WeChat menu), if any. The channel
    classes are these: their class attributes, and ``configure`` a classmethod."""

    platform: str
    commands: typer.Typer | None

    def configure(self, settings: Settings, engine: Engine) -> Channel | None:
        """The channel, or None when its settings are not given."""
        ...


class SendOnly:
    """For a channel that only delivers (WeCom, the console): no routes, nothing to run."""

    preferred: ClassVar[bool] = False
    commands: ClassVar[typer.Typer | None] = None

    def routes(self) -> list[BaseRoute]:
        return []

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

"""Logging for a server: one JSON line per event, and no owner's phone number in any line."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from pythonjsonlogger.json import JsonFormatter

# Mainland mobile numbers, with or without +86: kept recognisable, not readable.
PHONE = re.compile(r"(?<!\d)((?:\+?86)?1[3-9]\d)(\d{4})(\d{4})(?!\d)")


RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


def redact(text: str) -> str:
    return PHONE.sub(r"\1****\3", text)


class RedactPhones(logging.Filter):
    """Masks phone numbers in the message and in every extra field, before any handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        for key, value in list(vars(record).items()):
            # A record's own attributes hold where it was logged from, never what a person
            # wrote: only the message and the fields passed as ``extra`` are looked through.
            if isinstance(value, str) and key not in RECORD_ATTRIBUTES:
                setattr(record, key, redact(value))
        return True


def configure(*, json: bool = True, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactPhones())
    handler.setFormatter(
        JsonFormatter(
            "{asctime}{levelname}{name}{message}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
        if json
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler.executors.default", "telegram.ext"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@contextmanager
def only(level: int) -> Iterator[None]:
    """Plain lines of at least ``level`` to stderr while the block runs, then as before."""
    root = logging.getLogger()
    handlers, was = root.handlers[:], root.level
    configure(json=False, level=level)
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(was)


# --- No secret in any line: the settings' secrets, and credentials inside URLs ---
# HTTP clients quote the URL they failed on, query string and all (requests: "Max retries
# exceeded with url: /cgi-bin/token?grant_type=…&secret=…"): WeChat's and WeCom's app
# secrets and access tokens travel in a query, Telegram's bot token in the path, and a
# database's password in its URL.
CREDENTIALS_IN_URLS = (
    (re.compile(r"(\b\w*(?:secret|token|password)=)[^&\s'\"]+", re.IGNORECASE), r"\1***"),
    (re.compile(r"(/bot)\d+:[\w-]+"), r"\1***"),
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s/:@]*:)[^\s/@]+@"), r"\1***@"),
)
# Shorter values are not looked for: masking every "abc" would make the logs unreadable
# while a secret that short is no secret anyway.
SHORTEST_SECRET = 4


class HideSecrets(logging.Filter):
    """Masks the given secrets and credentials in URLs in the message, in every extra field,
    and in the traceback, before any handler formats them."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first: a secret that contains another is masked whole.
        self.secrets = sorted(
            {s for s in secrets if len(s) >= SHORTEST_SECRET}, key=len, reverse=True
        )

    def hide(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        for pattern, replacement in CREDENTIALS_IN_URLS:
            text = pattern.sub(replacement, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and isinstance(record.msg, str):
            # Each argument masked in place, so that a formatter that reads the arguments
            # (uvicorn's access log: client, method, path, status) still finds them; an
            # exception or a URL among them is masked as the text it would print.
            record.msg = self.hide(record.msg)
            record.args = tuple(
                arg if isinstance(arg, int | float) else self.hide(str(arg)) for arg in record.args
            )
        else:
            record.msg = self.hide(record.getMessage())
            record.args = None
        for key, value in list(vars(record).items()):
            if isinstance(value, str) and key not in RECORD_ATTRIBUTES:
                setattr(record, key, self.hide(value))
        if record.exc_info:
            # A traceback quotes the exception's message: formatted here and masked. The
            # formatters (logging's and the JSON one) print exc_text when exc_info is gone.
            record.exc_text = self.hide(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = self.hide(record.exc_text)
        if record.stack_info:
            record.stack_info = self.hide(record.stack_info)
        return True


def hide(secrets: Iterable[str]) -> None:
    """From now on no log line shows these values: on the root logger's handlers and on
    uvicorn's own (which do not propagate to the root). Call it after ``configure`` and
    where uvicorn has set its logging up (in the app factory); a second call replaces the
    first's secrets."""
    hiding = HideSecrets(secrets)
    for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access"):
        for handler in logging.getLogger(name).handlers:
            for earlier in [f for f in handler.filters if isinstance(f, HideSecrets)]:
                handler.removeFilter(earlier)
            handler.addFilter(hiding)

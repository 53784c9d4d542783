"""Logging for a server: one JSON line per event, and no owner's phone number in any line."""

from __future__ import annotations

import logging
import re
import sys

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

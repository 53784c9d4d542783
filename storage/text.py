"""Checks on what people type (never empty, never a novel), and a share as people read it."""

from __future__ import annotations

from storage.clock import NOT_SET
from storage.errors import InvalidInput
from storage.i18n import Msg


def required(value: str | None, what: str, *, max_length: int = 2000) -> str:
    cleaned = (value or "").strip()
    if not cleaned:
        raise InvalidInput("请填写{what}", what=Msg(what))
    if len(cleaned) > max_length:
        raise InvalidInput(
            "{what}太长了（最多 {max_length} 字），请精简后再发",
            what=Msg(what),
            max_length=max_length,
        )
    return cleaned


def optional(value: str | None, what: str, *, max_length: int = 2000) -> str | None:
    cleaned = (value or "").strip()
    return required(cleaned, what, max_length=max_length) if cleaned else None


def percent(rate: float | None) -> str:
    """A share as the figures print it: 86%, or — when there was nothing to count."""
    return format(rate, ".0%") if rate is not None else NOT_SET

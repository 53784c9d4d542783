"""An estate's past: repairs done, called back and closed over four years, as rows to insert
in bulk (the benchmark fills a million, the history test ten thousand)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any


def past_repair(
    n: int, *, now: datetime, estate_id: int, unit_id: int, reporter_id: int
) -> dict[str, Any]:
    """The n-th past repair: reported 2 days to about four years ago, closed 3 days later."""
    created = now - timedelta(days=2 + n % 1500, minutes=n % 600)
    return {
        "kind": "repair",
        "estate_id": estate_id,
        "unit_id": unit_id,
        "reporter_id": reporter_id,
        "category": "plumbing",
        "description": "历史工单",
        "status": "closed",
        "created_at": created,
        "done_at": created + timedelta(hours=5),
        "closed_at": created + timedelta(days=3),
    }


def its_callback(ticket_id: int, repair: dict[str, Any]) -> dict[str, Any]:
    """The callback of a past repair: made two days after it was done, satisfied."""
    return {
        "ticket_id": ticket_id,
        "created_at": repair["done_at"],
        "due_at": repair["done_at"] + timedelta(days=7),
        "done_at": repair["done_at"] + timedelta(days=2),
        "satisfaction": "satisfied",
        "channel": "phone",
    }

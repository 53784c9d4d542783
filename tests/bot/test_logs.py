"""Server logs: JSON lines, state changes with their ids, no phone numbers."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.logs import RedactPhones, configure, redact


def test_phone_numbers_are_masked_wherever_they_appear() -> None:
    assert redact("owner 13800138001 called") == "owner 138****8001 called"
    assert redact("+8613800138001") == "+86138****8001"
    assert redact("ticket BX000123, unit 3-1-1204") == "ticket BX000123, unit 3-1-1204"
    assert redact("order 1380013800123456") == "order 1380013800123456"  # not a phone


def test_a_log_line_is_json_with_the_objects_id_and_no_phone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))  # restored after the test
    monkeypatch.setattr(root, "level", root.level)
    configure(json=True)
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    monkeypatch.setattr(handler, "stream", stream)
    logging.getLogger("storage.workflow").info(
        "ticket %s: %s → %s",
        7,
        "new",
        "dispatched",
        extra={"object": "ticket", "object_id": 7, "contact": "13900139001"},
    )
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["message"] == "ticket 7: new → dispatched"
    assert line["object_id"] == 7
    assert line["level"] == "INFO"
    assert line["contact"] == "139****9001"
    assert any(isinstance(f, RedactPhones) for f in handler.filters)

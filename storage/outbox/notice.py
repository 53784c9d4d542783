"""A notice: one kind of news for someone, its wording and the facts it names.

Each kind has one builder, in the ``notices`` module of the domain it speaks of
(``storage/ticket/notices.py``, ``storage/patrol/notices.py``, ...): there its wording
(a zh-Hans message id) and its facts are put together once, wherever the news comes from
(a service, the clock). The outbox renders it in each recipient's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from storage.i18n import Msg, translator


@dataclass(frozen=True)
class Notice:
    kind: str  # for the record, the metrics and the idempotency keys: "repair_dispatched"
    template: str  # a zh-Hans message id with {placeholders}
    params: Mapping[str, object] = field(default_factory=dict)

    def text(self, locale: str | None) -> str:
        return translator(locale)(Msg(self.template, **self.params))

    def record(self) -> dict[str, str]:
        """The facts as kept with the notice, in the desk's words."""
        return {key: str(value) for key, value in self.params.items()}

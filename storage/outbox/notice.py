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
    # What the reader can do about it at once, as buttons: (key, zh-Hans label). A key is
    # an action the engine takes from whatever the reader is doing ("!accept 12").
    actions: tuple[tuple[str, str], ...] = ()
    # Pictures that go with it (local files): the owner's photos go with the work.
    images: tuple[str, ...] = ()

    def text(self, locale: str | None) -> str:
        return translator(locale)(Msg(self.template, **self.params))

    def buttons(self, locale: str | None) -> list[tuple[str, str]]:
        t = translator(locale)
        return [(key, t(label)) for key, label in self.actions]

"""Keeping the translation catalogs in step with the code (developers, in a checkout).

Every message id in the source is put in each catalog; a translation already there is
kept, a new zh-Hant one is converted from zh-Hans with OpenCC (to be reviewed), a new
English one is left empty, and ``tests/storage/test_i18n.py`` fails until it is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from storage import i18n

CHECKOUT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Updated:
    locale: str
    messages: int
    untranslated: int


def update(root: Path = CHECKOUT) -> list[Updated]:
    from opencc import OpenCC  # a development dependency: pip install -e '.[dev]'

    messages = i18n.extract(root)
    to_traditional = OpenCC("s2t")
    updated = []
    for locale in ("zh_Hant", "en"):
        path = i18n.catalog_path(locale)
        old: dict[str, str] = {}
        if path.exists():
            with path.open("rb") as po:
                old = {str(m.id): str(m.string) for m in read_po(po) if m.id and m.string}
        catalog = Catalog(
            locale=locale.split("_")[0], domain=i18n.DOMAIN, project="wuye", language_team=locale
        )
        missing = 0
        for msgid, places in sorted(messages.items(), key=lambda item: item[1][0]):
            string = old.get(msgid) or (
                to_traditional.convert(msgid) if locale == "zh_Hant" else ""
            )
            missing += not string
            catalog.add(
                msgid,
                string,
                locations=[(p.rsplit(":", 1)[0], int(p.rsplit(":", 1)[1])) for p in places[:3]],
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as po:
            write_po(po, catalog, width=100, sort_output=False, omit_header=False)
        updated.append(Updated(locale, len(messages), missing))
    return updated

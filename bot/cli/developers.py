"""For developers, in a checkout: the translation catalogs."""

from __future__ import annotations

import typer

from storage import catalogs

i18n_app = typer.Typer(help="Translations (for developers).", no_args_is_help=True)


@i18n_app.command("update")
def i18n_update() -> None:
    """Re-extract the message ids and update the catalogs: new zh-Hant entries are converted
    from zh-Hans with OpenCC (review them), new English entries are left empty to translate."""
    for updated in catalogs.update():
        typer.echo(
            f"{updated.locale}: {updated.messages} messages, {updated.untranslated} to translate"
        )

"""Settings: the seed's numbers by default, and a bad value names its variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.config import SettingsError, load_settings


def test_the_defaults_are_the_procedures_numbers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.database_url == "sqlite:///wuye.db"
    assert settings.timezone == "Asia/Shanghai"
    assert (
        settings.callback_days_safety,
        settings.callback_days_leak,
        settings.callback_days_other,
    ) == (2, 3, 7)
    assert settings.patrol_fix_days == 7
    assert (settings.complaint_handle_hours, settings.complaint_reply_hours) == (24, 72)
    assert settings.rework_hours == 24


def test_environment_and_dotenv_are_honoured(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("WUYE_CALLBACK_DAYS_LEAK=4\nWUYE_TIMEZONE=Asia/Urumqi\n")
    monkeypatch.setenv("WUYE_TIMEZONE", "Asia/Hong_Kong")
    settings = load_settings()
    assert settings.callback_days_leak == 4
    assert settings.timezone == "Asia/Hong_Kong"  # the environment wins over .env


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("WUYE_TIMEZONE", "Mars/Olympus", "WUYE_TIMEZONE: Value error, unknown time zone"),
        ("WUYE_CALLBACK_DAYS_LEAK", "three", "WUYE_CALLBACK_DAYS_LEAK: Input should be a valid"),
        ("WUYE_PATROL_FIX_DAYS", "0", "WUYE_PATROL_FIX_DAYS: Input should be greater than"),
        ("WUYE_DATABASE_URL", "mysql://x", "WUYE_DATABASE_URL: Value error, only sqlite"),
    ],
)
def test_a_bad_setting_fails_at_start_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, variable: str, value: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=message):
        load_settings()

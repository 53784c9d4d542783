"""Production defaults that fail closed: `wuye serve` refuses settings it cannot serve safely,
/metrics is guarded or moved off the public app, and no secret is shown or logged."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import requests
from pydantic import SecretStr
from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from typer.testing import CliRunner

from bot import logs, metrics
from bot.cli import app
from bot.web import Wuye, app_from_environment, create_app
from bot.wechat.api import WechatApi
from storage.config import (
    Settings,
    SettingsError,
    check_serving,
    load_settings,
    serving_problems,
)
from storage.database import Database
from tests.bot.fake_telegram import FakeTelegram
from tests.conftest import ON_POSTGRESQL_ONLY
from tests.servers import free_port, serving

WUYE = Path(sys.executable).with_name("wuye")
GENERATE = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"

# Every secret a deployment holds, each a value that can be looked for in any output.
TELEGRAM_TOKEN = "123456:TG-token-never-shown"
WEBHOOK_SECRET = "hook-secret-never-shown"
WECHAT_TOKEN = "wechattokennevershown"
WECHAT_APP_SECRET = "wechat-app-secret-never-shown"
AES_KEY = "AesKeyNeverShown" + "0" * 27  # an EncodingAESKey is 43 letters and digits
PREVIOUS_AES_KEY = "OldKeyNeverShown" + "1" * 27
WECOM_SECRET = "wecom-secret-never-shown"
METRICS_TOKEN = "metrics-token-never-shown"
DB_PASSWORD = "db-password-never-shown"
SECRETS = (
    TELEGRAM_TOKEN,
    WEBHOOK_SECRET,
    WECHAT_TOKEN,
    WECHAT_APP_SECRET,
    AES_KEY,
    PREVIOUS_AES_KEY,
    WECOM_SECRET,
    METRICS_TOKEN,
    DB_PASSWORD,
)
EVERY_SECRET = {
    "WUYE_TELEGRAM_TOKEN": TELEGRAM_TOKEN,
    "WUYE_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
    "WUYE_WECHAT_TOKEN": WECHAT_TOKEN,
    "WUYE_WECHAT_APP_ID": "wx0123456789abcdef",
    "WUYE_WECHAT_APP_SECRET": WECHAT_APP_SECRET,
    "WUYE_WECHAT_AES_KEY": AES_KEY,
    "WUYE_WECHAT_PREVIOUS_AES_KEY": PREVIOUS_AES_KEY,
    "WUYE_WECOM_CORP_ID": "ww0123456789",
    "WUYE_WECOM_SECRET": WECOM_SECRET,
    "WUYE_WECOM_AGENT_ID": "1000002",
    "WUYE_METRICS_TOKEN": METRICS_TOKEN,
}


def shown_secrets(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


def with_password(url: str) -> str:
    """A PostgreSQL URL with a password. The test server trusts its Unix socket (peer), so
    the password is never asked for and the connection is real."""
    return make_url(url).set(password=DB_PASSWORD).render_as_string(hide_password=False)


def closed_port() -> int:
    return free_port()  # bound and released: nothing listens there


@pytest.fixture
def root_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    """For code that sets the logging up (`logs.configure`): restored after the test."""
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)


class Output:
    """A server's output, read in a thread as it comes: a server that never gets ready
    fails the test with what it said, instead of hanging it."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        self.lines: list[str] = []
        self.ended = False
        self._changed = threading.Condition()
        self._stream = process.stdout
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self._stream:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self.ended = True
            self._changed.notify_all()

    def count(self, text: str) -> int:
        return sum(text in line for line in self.lines)

    def wait_for(self, text: str, times: int = 1, seconds: float = 60) -> None:
        with self._changed:
            self._changed.wait_for(lambda: self.count(text) >= times or self.ended, seconds)
            assert self.count(text) >= times, self.text

    def wait_until_ended(self, seconds: float = 30) -> None:
        with self._changed:
            self._changed.wait_for(lambda: self.ended, seconds)

    @property
    def text(self) -> str:
        return "".join(self.lines)


def start_serving(cwd: Path, args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(  # the real command, as systemd or Docker starts it
        [str(WUYE), "serve", *args],
        cwd=cwd,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop(server: subprocess.Popen[str], output: Output) -> None:
    server.terminate()
    server.wait(timeout=30)
    output.wait_until_ended()


# --- `wuye serve` refuses settings it cannot serve ---


def test_serve_with_a_public_url_and_no_webhook_secret_refuses_in_one_line(
    tmp_path: Path,
) -> None:
    port = free_port()
    result = subprocess.run(
        [str(WUYE), "serve", "--port", str(port)],
        cwd=tmp_path,
        env={
            **os.environ,
            "WUYE_PUBLIC_URL": "https://desk.example.com",
            "WUYE_TELEGRAM_TOKEN": TELEGRAM_TOKEN,
            # Nothing answers there: had serve tried to migrate first, it would fail otherwise.
            "WUYE_DATABASE_URL": f"postgresql+psycopg://wuye:{DB_PASSWORD}@127.0.0.1:{closed_port()}/wuye",
        },
        capture_output=True,
        text=True,
        timeout=60,  # it stops before it binds a port or migrates: it cannot hang
        check=False,
    )
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("wuye serve: WUYE_TELEGRAM_WEBHOOK_SECRET is not set")
    assert "WUYE_PUBLIC_URL" in line
    assert GENERATE in line
    assert result.stdout == ""
    assert shown_secrets(result.stdout + result.stderr) == []
    assert not list(tmp_path.iterdir())  # no database, no attachments folder: nothing began


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        (
            {"telegram_token": TELEGRAM_TOKEN, "public_url": "https://d.example.com"},
            "WUYE_TELEGRAM_WEBHOOK_SECRET",
        ),
        (
            {"wechat_token": WECHAT_TOKEN, "wechat_app_secret": WECHAT_APP_SECRET},
            "WUYE_WECHAT_APP_ID",
        ),
        ({"wechat_token": WECHAT_TOKEN, "wechat_app_id": "wx1"}, "WUYE_WECHAT_APP_SECRET"),
        (
            {
                "wechat_token": WECHAT_TOKEN,
                "wechat_app_id": "wx1",
                "wechat_app_secret": WECHAT_APP_SECRET,
                "wechat_mode": "safe",
            },
            "WUYE_WECHAT_AES_KEY",
        ),
        ({"wecom_corp_id": "ww1", "wecom_secret": WECOM_SECRET}, "WUYE_WECOM_AGENT_ID"),
        ({"wecom_corp_id": "ww1", "wecom_agent_id": 1000002}, "WUYE_WECOM_SECRET"),
    ],
)
def test_each_platform_half_configured_is_refused_naming_what_to_set(
    given: dict[str, object], missing: str
) -> None:
    settings = load_settings(**given)
    [problem] = serving_problems(settings)
    assert problem.startswith(f"{missing} is not set: ")
    with pytest.raises(SettingsError, match=f"^wuye serve: {missing} is not set") as refused:
        check_serving(settings)
    assert "\n" not in str(refused.value)
    assert shown_secrets(str(refused.value)) == []


def test_complete_settings_serve_and_polling_needs_no_webhook_secret() -> None:
    complete = load_settings(
        **{k.removeprefix("WUYE_").lower(): v for k, v in EVERY_SECRET.items()}
    )
    assert (
        serving_problems(complete.model_copy(update={"public_url": "https://d.example.com"})) == []
    )
    polling = load_settings(telegram_token=TELEGRAM_TOKEN, public_url="https://d.example.com")
    assert serving_problems(polling, webhook=False) == []
    # `wuye chat` and the desk's commands still start with no platform's settings at all.
    assert serving_problems(load_settings()) == []


def test_several_problems_are_one_line_each() -> None:
    settings = load_settings(wechat_token=WECHAT_TOKEN, wecom_corp_id="ww1")
    with pytest.raises(SettingsError) as refused:
        check_serving(settings)
    first, *problems = str(refused.value).splitlines()
    assert first == "wuye serve cannot start:"
    assert [p.split()[0] for p in problems] == [
        "WUYE_WECHAT_APP_ID",
        "WUYE_WECHAT_APP_SECRET",
        "WUYE_WECOM_AGENT_ID",
        "WUYE_WECOM_SECRET",
    ]


def test_a_worker_started_by_another_supervisor_refuses_too(
    monkeypatch: pytest.MonkeyPatch, root_logging: None, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WUYE_PUBLIC_URL", "https://desk.example.com")
    monkeypatch.setenv("WUYE_TELEGRAM_TOKEN", TELEGRAM_TOKEN)
    with pytest.raises(SettingsError, match="WUYE_TELEGRAM_WEBHOOK_SECRET"):
        app_from_environment()  # what `uvicorn --factory bot.web:app_from_environment` runs


def test_metrics_settings_that_cannot_guard_anything_are_refused() -> None:
    for token in ("", "short"):
        with pytest.raises(SettingsError, match=r"WUYE_METRICS_TOKEN: .*at least 16"):
            load_settings(metrics_token=token)
    for address in ("9100", "127.0.0.1", "127.0.0.1:http", "127.0.0.1:70000"):
        with pytest.raises(SettingsError, match=r"WUYE_METRICS_LISTEN: .*host:port"):
            load_settings(metrics_listen=address)
    assert load_settings(metrics_listen="[::1]:9100").metrics_address == ("::1", 9100)


# --- /metrics: behind a token, on its own address, or (in production) nowhere ---


@pytest.fixture
def settings_with(db_url: str, tmp_path: Path) -> Callable[..., Settings]:
    def make(**overrides: object) -> Settings:
        return load_settings(
            database_url=db_url, attachments_dir=tmp_path / "attachments", **overrides
        )

    return make


@pytest.fixture
def app_of(settings_with: Callable[..., Settings]) -> Iterator[Callable[..., Wuye]]:
    made: list[Wuye] = []

    def make(**overrides: object) -> Wuye:
        made.append(Wuye.from_settings(settings_with(**overrides)))
        return made[-1]

    yield make
    for wuye in made:
        wuye.db.dispose()


def test_metrics_with_a_token_answer_only_its_bearer(app_of: Callable[..., Wuye]) -> None:
    wuye = app_of(public_url="https://desk.example.com", metrics_token=METRICS_TOKEN)
    with serving(create_app(wuye, dispatch=False)) as url:
        refused = httpx.get(f"{url}/metrics")
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert METRICS_TOKEN not in refused.text
        wrongs: tuple[str | bytes, ...] = (
            "Bearer wrong-token-of-some-length",
            f"Bearer {METRICS_TOKEN}x",
            f"Basic {METRICS_TOKEN}",
            METRICS_TOKEN,
            "Bearer",
            "Bearer 令牌".encode(),  # not ASCII: refused, not a server error
        )
        for wrong in wrongs:
            value = wrong if isinstance(wrong, bytes) else wrong.encode()
            answer = httpx.get(f"{url}/metrics", headers={b"Authorization": value})
            assert answer.status_code == 401, wrong
        allowed = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert allowed.status_code == 200
        assert "wuye_outbox_pending 0.0" in allowed.text
        # The scheme is case-insensitive, as HTTP says.
        lower = httpx.get(f"{url}/metrics", headers={"Authorization": f"bearer {METRICS_TOKEN}"})
        assert lower.status_code == 200
        assert httpx.get(f"{url}/healthz").json()["ok"] is True  # health needs no token


def test_metrics_listen_serves_metrics_there_and_not_on_the_public_app(
    app_of: Callable[..., Wuye],
) -> None:
    port = free_port()
    wuye = app_of(public_url="https://desk.example.com", metrics_listen=f"127.0.0.1:{port}")
    with serving(create_app(wuye, dispatch=False)) as url:
        assert httpx.get(f"{url}/metrics").status_code == 404
        assert httpx.get(f"{url}/healthz").status_code == 200
        private = httpx.get(f"http://127.0.0.1:{port}/metrics")
        assert private.status_code == 200
        assert "wuye_outbox_pending 0.0" in private.text
        # Only /metrics is there: the webhooks and health stay on the public app.
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 404
    with pytest.raises(httpx.ConnectError):  # it stops with the app
        httpx.get(f"http://127.0.0.1:{port}/metrics")


def test_metrics_listen_with_a_token_needs_the_token_there(app_of: Callable[..., Wuye]) -> None:
    port = free_port()
    wuye = app_of(metrics_listen=f"127.0.0.1:{port}", metrics_token=METRICS_TOKEN)
    with serving(create_app(wuye, dispatch=False)) as url:
        assert httpx.get(f"{url}/metrics").status_code == 404
        private = f"http://127.0.0.1:{port}/metrics"
        assert httpx.get(private).status_code == 401
        assert (
            httpx.get(private, headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).status_code
            == 200
        )


# uvicorn ends its thread with SystemExit when the app's start fails: that is the point here.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_taken_metrics_port_stops_the_start(app_of: Callable[..., Wuye]) -> None:
    # Another program holds the port (without SO_REUSEPORT, so wuye cannot share it).
    with serving(Starlette()) as taken:
        port = int(taken.rsplit(":", 1)[1])
        wuye = app_of(metrics_listen=f"127.0.0.1:{port}")

        async def listen() -> None:
            async with metrics.listening(wuye.db, None, "127.0.0.1", port):
                pass

        with pytest.raises(OSError, match="in use"):
            asyncio.run(listen())
        with (
            pytest.raises(RuntimeError, match="failed to start"),
            serving(create_app(wuye, dispatch=False)),
        ):
            pass
        assert httpx.get(f"{taken}/metrics").status_code == 404  # still the other program's


def test_in_production_without_a_token_or_an_address_metrics_are_not_served(
    app_of: Callable[..., Wuye], caplog: pytest.LogCaptureFixture
) -> None:
    wuye = app_of(public_url="https://desk.example.com")
    with caplog.at_level(logging.WARNING, logger="bot.web"):
        application = create_app(wuye, dispatch=False)
    [warning] = [r.getMessage() for r in caplog.records if r.name == "bot.web"]
    assert "/metrics is not served" in warning
    assert "WUYE_METRICS_TOKEN" in warning
    assert "WUYE_METRICS_LISTEN=127.0.0.1:9100" in warning
    with serving(application) as url:
        assert httpx.get(f"{url}/metrics").status_code == 404
        assert httpx.get(f"{url}/metrics", headers={"Authorization": "Bearer x"}).status_code == 404
        assert httpx.get(f"{url}/healthz").status_code == 200


def test_locally_metrics_stay_on_the_app_without_a_token(app_of: Callable[..., Wuye]) -> None:
    with serving(create_app(app_of(), dispatch=False)) as url:
        answer = httpx.get(f"{url}/metrics")
        assert answer.status_code == 200
        assert "wuye_outbox_pending" in answer.text


@ON_POSTGRESQL_ONLY
def test_every_worker_serves_metrics_on_the_one_address(db_url: str, tmp_path: Path) -> None:
    port, metrics_port = free_port(), free_port()
    (tmp_path / "metrics").mkdir()
    server = start_serving(
        tmp_path,
        ["--port", str(port), "--workers", "2"],
        {
            "WUYE_DATABASE_URL": db_url,
            "WUYE_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "WUYE_METRICS_LISTEN": f"127.0.0.1:{metrics_port}",
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        },
    )
    output = Output(server)
    try:
        # Each worker binds the metrics address too; one that could not would fail its start.
        output.wait_for("Application startup complete", times=2)
        for _ in range(6):  # the kernel hands each scrape to one worker or the other
            scraped = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10)
            assert scraped.status_code == 200
            assert "wuye_outbox_pending" in scraped.text
        assert httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).status_code == 404
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
    finally:
        stop(server, output)
    assert "Application startup failed" not in output.text
    assert output.count("serving /metrics on 127.0.0.1") == 2


# --- No secret is shown by a command or written in a log ---


def test_secrets_stay_secret_in_the_settings_object() -> None:
    fields = {k.removeprefix("WUYE_").lower(): v for k, v in EVERY_SECRET.items()}
    settings = load_settings(
        **fields,
        database_url=f"postgresql+psycopg://wuye:{DB_PASSWORD}@db/wuye",
    )
    for name in Settings.model_fields:
        if any(word in name for word in ("token", "secret", "aes_key", "password")):
            assert isinstance(getattr(settings, name), SecretStr), name
    for shown in (repr(settings), str(settings)):
        assert shown_secrets(shown) == []
    assert shown_secrets(settings.model_dump_json()) == [DB_PASSWORD]  # a copy keeps its URL
    assert "wuye:***@db/wuye" in repr(settings)
    assert set(SECRETS) <= settings.secret_values()


def configured_into(stream: io.StringIO, secrets: set[str]) -> None:
    """The server's logging (JSON lines, phones and secrets hidden), written to ``stream``."""
    logs.configure(json=True)
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    logs.hide(secrets)


def test_a_failed_wechat_call_is_logged_without_the_app_secret(
    tmp_path: Path, root_logging: None
) -> None:
    # requests quotes the URL it failed on, query string and all: WeChat's token URL carries
    # the AppSecret. A notice that fails to go is logged with its error, so it must not show.
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path}/wuye.db",
        wechat_app_id="wx1",
        wechat_app_secret=WECHAT_APP_SECRET,
        wechat_api_base_url=f"http://127.0.0.1:{closed_port()}",
    )
    db = Database(settings)
    api = WechatApi(settings, db)
    with pytest.raises(requests.RequestException) as failed:
        api.fetch_access_token()
    db.dispose()
    assert WECHAT_APP_SECRET in str(failed.value)  # what would have been written
    stream = io.StringIO()
    configured_into(stream, settings.secret_values())
    log = logging.getLogger("bot.dispatcher")
    log.warning("sending notice via %s failed: %s", "wechat", failed.value)
    try:
        raise RuntimeError("outbox") from failed.value
    except RuntimeError:
        log.exception("outbox dispatch failed")
    log.info("retrying", extra={"reason": str(failed.value)})
    written = stream.getvalue()
    assert shown_secrets(written) == []
    lines = [json.loads(line) for line in written.splitlines()]
    assert "secret=***" in lines[0]["message"]
    assert "secret=***" in lines[1]["exc_info"]
    assert "Traceback" in lines[1]["exc_info"]
    assert "secret=***" in lines[2]["reason"]


def test_credentials_in_urls_are_masked_even_when_not_configured(root_logging: None) -> None:
    stream = io.StringIO()
    configured_into(stream, set())
    log = logging.getLogger("test")
    log.warning("GET https://api.telegram.org/bot%s/getMe failed", TELEGRAM_TOKEN)
    log.warning("connecting to postgresql+psycopg://wuye:%s@db/wuye", DB_PASSWORD)
    log.warning("/cgi-bin/gettoken?corpid=ww1&corpsecret=%s", WECOM_SECRET)
    assert shown_secrets(stream.getvalue()) == []
    assert "/bot***/getMe" in stream.getvalue()


@pytest.fixture
def deployment(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Every secret in the environment, as in production; the database the real SQLite
    default (wuye.db in the working folder), or PostgreSQL with a password in its URL."""
    monkeypatch.chdir(tmp_path)
    env = dict(EVERY_SECRET)
    env["WUYE_PUBLIC_URL"] = "https://desk.example.com"
    env["WUYE_ATTACHMENTS_DIR"] = str(tmp_path / "attachments")
    if db_url.startswith("postgresql"):
        env["WUYE_DATABASE_URL"] = with_password(db_url)
    else:
        monkeypatch.delenv("WUYE_DATABASE_URL", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


COMMANDS = [
    ["--help"],
    ["serve", "--help"],
    ["run"],  # prints the database it set up
    ["db", "upgrade"],  # prints the database it upgraded
    ["estate", "show"],
    ["invite", "--estate", "cuihu", "--staff", "G01"],
    ["tickets", "list"],
    ["patrols", "list", "--json"],
    ["callbacks", "due"],
    ["digest", "--date", "2026-11-23"],
    ["jobs", "list"],
    ["jobs", "run"],
]


def test_no_command_shows_a_secret(
    deployment: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    runner = CliRunner()
    printed = {}
    for command in COMMANDS:
        result = runner.invoke(app, command)
        assert result.exit_code == 0, (command, result.output)
        printed[" ".join(command)] = result.output
        assert shown_secrets(result.output) == [], command
    assert shown_secrets(caplog.text) == []
    # The database is still named, its password masked.
    url = deployment.get("WUYE_DATABASE_URL")
    database = make_url(url).render_as_string() if url else "sqlite:///wuye.db"
    assert "***" in database or database == "sqlite:///wuye.db"
    assert database in printed["run"]
    assert database in printed["db upgrade"]


def test_a_database_that_cannot_be_reached_is_reported_without_its_password(
    tmp_path: Path,
) -> None:
    url = f"postgresql+psycopg://wuye:{DB_PASSWORD}@127.0.0.1:{closed_port()}/wuye"
    for command in (["db", "upgrade"], ["run"]):
        result = subprocess.run(
            [str(WUYE), *command],
            cwd=tmp_path,
            env={**os.environ, "WUYE_DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        assert result.returncode != 0
        assert "127.0.0.1" in result.stderr  # it said where it failed to connect
        assert shown_secrets(result.stdout + result.stderr) == [], command


def test_serve_in_production_shows_no_secret(deployment: dict[str, str], tmp_path: Path) -> None:
    fake = FakeTelegram()
    with serving(fake.app()) as telegram:
        port = free_port()
        server = start_serving(
            tmp_path,
            ["--port", str(port)],
            {
                **deployment,
                "WUYE_TELEGRAM_API_BASE_URL": telegram,
                "WUYE_PUBLIC_URL": f"http://127.0.0.1:{port}",
            },
        )
        output = Output(server)
        base = f"http://127.0.0.1:{port}"
        try:
            output.wait_for("Application startup complete")
            assert httpx.get(f"{base}/healthz", timeout=10).json() == {
                "ok": True,
                "telegram": True,
                "wechat": True,
                "wecom": True,
            }
            assert httpx.get(f"{base}/metrics", timeout=10).status_code == 401
            bearer = {"Authorization": f"Bearer {METRICS_TOKEN}"}
            assert httpx.get(f"{base}/metrics", headers=bearer, timeout=10).status_code == 200
            forged = httpx.post(
                f"{base}/telegram/webhook",
                json={"update_id": 1},
                headers={"X-Telegram-Bot-Api-Secret-Token": "forged"},
                timeout=10,
            )
            assert forged.status_code == 403
        finally:
            stop(server, output)
    set_webhook = [c for c in fake.calls if c.method == "setWebhook"]
    assert set_webhook[0].params["secret_token"] == WEBHOOK_SECRET  # it was used, not shown
    assert shown_secrets(output.text) == []


def test_the_refusal_shows_no_secret_either() -> None:
    settings = load_settings(
        telegram_token=TELEGRAM_TOKEN,
        public_url="https://desk.example.com",
        wechat_token=WECHAT_TOKEN,
        wechat_aes_key=AES_KEY,
        wechat_mode="safe",
        wecom_corp_id="ww1",
        wecom_secret=WECOM_SECRET,
        database_url=f"postgresql+psycopg://wuye:{DB_PASSWORD}@db/wuye",
    )
    with pytest.raises(SettingsError) as refused:
        check_serving(settings)
    assert shown_secrets(str(refused.value)) == []

"""``wuye chat`` with a script on stdin: the newcomer's whole story, one line per message."""

from __future__ import annotations

import asyncio
import os
import subprocess
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.console import Console, ConsoleChannel, render
from conversations.engine import Engine
from conversations.flows import FLOWS
from conversations.messages import Button, Incoming, Reply
from storage.config import load_settings
from storage.database import Database
from tests.conftest import SAMPLE
from tests.pictures import gps_of, jpeg, phone_exif, png
from tests.servers import WUYE


def wuye(args: list[str], env: dict[str, str], stdin: str = "") -> str:
    result = subprocess.run(
        [str(WUYE), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_bind_report_a_leak_with_a_photo_dispatch_accept_finish_and_find_the_callback(
    db_url: str, tmp_path: Path
) -> None:
    env = {"WUYE_DATABASE_URL": db_url}
    wuye(["estate", "import", str(SAMPLE)], env)
    desk_code = wuye(["invite", "--estate", "cuihu", "--staff", "K01"], env).split()[1]
    tech_code = wuye(["invite", "--estate", "cuihu", "--staff", "G01"], env).split()[1]
    photo = tmp_path / "leak.jpg"
    photo.write_bytes(jpeg())
    script = "\n".join(
        [
            "你好",
            "2",
            "1-1-502",
            "13800138001",  # bind as the sample owner 张伟
            "报修",
            "5",
            "1",
            "卫生间天花板渗水",
            str(photo),
            "1",
            "1",
            "1",
            "/user tech",
            "你好",
            "1",
            tech_code,  # the technician: 周师傅
            "/user desk",
            "你好",
            "1",
            desk_code,  # the desk: 陈静
            "派单",
            "1",
            "1",
            "/user tech",
            "维修工单",
            "1",
            "1",
            "维修工单",
            "1",
            "1",
            "更换防水层",
            "1",
            "1",
            "/user desk",
            "回访",
            "/quit",
        ]
    )
    out = wuye(["chat", "--user", "owner"], env, script)

    assert "绑定成功，张伟" in out
    assert "照片：1 张" in out
    assert "报修成功，单号 BX000001" in out
    assert "绑定成功，陈静" in out
    assert "BX000001 已派给 周师傅" in out
    assert "绑定成功，周师傅" in out
    assert "已接单 BX000001" in out
    assert "[通知 → tech] 【新维修单】BX000001" in out  # the technician was told, in his chat
    assert "[通知 → owner] 您的报修 BX000001 已完工" in out
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    due = (today + timedelta(days=3)).isoformat()
    assert f"BX000001 已完工，已通知业主。回访期限 {due}" in out
    assert f"回访期限 {due}" in out.split("待回访（最早到期的在前）：")[1]
    assert "Traceback" not in out
    listed = wuye(["callbacks", "due", "--json", "--date", due], env)
    assert f'"due_on": "{due}"' in listed
    assert date.fromisoformat(due) - today == timedelta(days=3)


def test_console_lines_become_neutral_messages(tmp_path: Path) -> None:
    shown: list[str] = []
    db = Database(
        load_settings(
            database_url=f"sqlite:///{tmp_path}/console.db",
            attachments_dir=tmp_path / "attachments",
        )
    )
    db.upgrade()
    console = Console(engine=Engine(db, FLOWS), user="owner", write=shown.append)

    def line(text: str) -> Incoming:
        message = console.incoming(text)
        assert message is not None, text
        return message

    console.buttons = [Button("/repair", "报修"), Button("/mine", "我的工单")]
    assert line("2").button == "/mine"
    console.say("你好")  # a stranger is asked how to bind: those buttons replace the menu
    assert [b.key for b in console.buttons] == ["code", "unit", "join"]
    assert line("4").text == "4"  # there is no fourth button: it is just text
    image = tmp_path / "p.PNG"
    image.write_bytes(png(phone_exif()))
    [kept] = line(str(image)).photos  # kept as a platform's photo is: by its content
    assert Path(kept).parent == tmp_path / "attachments" / "console"
    assert gps_of(Path(kept).read_bytes()) == {}
    not_a_photo = tmp_path / "notes.jpg"
    not_a_photo.write_text("这不是照片")
    refused = line(f"/photo {not_a_photo}")
    assert (refused.photos, refused.refused) == ((), ("not_a_photo",))
    assert console.incoming("/photo /no/such.jpg") is None
    assert shown[-1] == "(no such file: /no/such.jpg)"
    location = line("/location 31.2304,121.4737").location
    assert location is not None
    assert (location.latitude, location.longitude) == (31.2304, 121.4737)
    assert console.incoming("/location here") is None
    assert console.incoming("/user desk") is None
    assert console.user == "desk"
    assert console.buttons == []
    message = line("报修")
    assert (message.user_id, message.chat_id, message.text) == ("desk", "desk", "报修")
    assert render(Reply("请选择：", (Button("a", "是"), Button("b", "否")))) == (
        "请选择：\n  1) 是\n  2) 否"
    )
    db.dispose()


def test_a_notice_shows_its_buttons_and_the_next_number_presses_them(tmp_path: Path) -> None:
    """A page reaching the technician's console chat: 1) 接单, and 1 takes it."""
    db = Database(load_settings(database_url=f"sqlite:///{tmp_path}/console.db"))
    printed: list[str] = []
    console = Console(Engine(db, FLOWS), "tech", write=printed.append)
    channel = ConsoleChannel(printed.append, offered=console.offered)
    page = Reply("【紧急维修】BX000001", (Button("/take 1", "接单"),))
    asyncio.run(channel.send("tech", page))
    assert printed == ["  [通知 → tech] 【紧急维修】BX000001\n      1) 接单"]
    message = console.incoming("1")
    assert message is not None
    assert message.button == "/take 1"
    asyncio.run(channel.send("desk", Reply("【新报修】", (Button("/assign 2", "派单"),))))
    assert console.buttons == [Button("/take 1", "接单")]  # another chat's notice: not ours

"""A real calendar client reads the feed: vdirsyncer subscribes over HTTP (its `http`
storage) into a local calendar, and khal lists the events as a user would see them.

Both run as their own processes against the feed server on 127.0.0.1, like a user's
calendar app would. Runs on SQLite only: the client side does not depend on the database.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import Core
from bot.core.settings import load_settings
from bot.feed_server import FeedServer
from tests.calendar_tools import calendar_tool, run_tool
from tests.feeds import add_jour_fixe_series, feed_token_in
from tests.harness import GROUP, Conversation, dm, person

anna, bernd = person("anna"), person("bernd")


@pytest.fixture
async def sqlite_core(sqlite_url: str, clock) -> AsyncIterator[Core]:
    core = await Core.create(load_settings(database_url=sqlite_url, _env_file=None), clock)
    yield core
    await core.close()


async def test_vdirsyncer_and_khal_show_the_feed_at_local_times(
    sqlite_core: Core, tmp_path: Path
) -> None:
    core = sqlite_core
    chat = Conversation(core)
    chat.platform.admins.add((GROUP.chat_id, anna.user_id))
    await chat.say(anna, '/registrieren ag "AG Transfer"')
    await chat.say(bernd, "/beitreten")
    # Both clock-change days: 9:00 local must stay 9:00 in the client.
    await chat.say(anna, "/sitzung 31.10.2021 9-12 Uhr Herbstsitzung")
    await chat.say(anna, "/sitzung 27.03.2022 9-12 Uhr Frühjahrssitzung")
    await chat.say(anna, "/sitzung 15.07.2021 14 Uhr Abgesagte Runde")
    await chat.say(anna, "/absagen 3")
    await add_jour_fixe_series(core)
    token = feed_token_in(await chat.text(bernd, "/kalender", dm(bernd)))

    server = FeedServer(core.services)
    await server.start("127.0.0.1", 0)
    try:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(tmp_path),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "TZ": "Europe/Berlin",
        }
        local = tmp_path / "calendar"
        (tmp_path / "vdirsyncer.conf").write_text(
            f"""[general]
status_path = "{tmp_path / "status"}/"

[pair feed]
a = "feed_remote"
b = "feed_local"
collections = null
conflict_resolution = "a wins"

[storage feed_remote]
type = "http"
url = "http://127.0.0.1:{server.port}/calendar/{token}.ics"

[storage feed_local]
type = "filesystem"
path = "{local}/"
fileext = ".ics"
""",
            encoding="utf-8",
        )
        local.mkdir()
        vdirsyncer = [calendar_tool("vdirsyncer"), "-c", str(tmp_path / "vdirsyncer.conf")]
        await run_tool(*vdirsyncer, "discover", env=env)
        synced = await run_tool(*vdirsyncer, "sync", env=env)
        files = sorted(local.glob("*.ics"))
        assert len(files) == 4, synced  # three meetings and the series (master + override)
    finally:
        await server.stop()

    (tmp_path / "khal.conf").write_text(
        f"""[calendars]
[[ag]]
path = {local}/
[locale]
timeformat = %H:%M
dateformat = %d.%m.%Y
longdateformat = %d.%m.%Y
datetimeformat = %d.%m.%Y %H:%M
longdatetimeformat = %d.%m.%Y %H:%M
local_timezone = Europe/Berlin
default_timezone = Europe/Berlin
firstweekday = 0
[default]
default_calendar = ag
[sqlite]
path = {tmp_path / "khal.db"}
""",
        encoding="utf-8",
    )
    khal = [
        calendar_tool("khal"),
        "-c",
        str(tmp_path / "khal.conf"),
        "list",
        "-f",
        "{start} {title}",
    ]
    autumn = await run_tool(*khal, "31.10.2021", "1d", env=env)
    spring = await run_tool(*khal, "27.03.2022", "1d", env=env)
    assert "31.10.2021 09:00 AG Transfer: Herbstsitzung" in autumn
    assert "27.03.2022 09:00 AG Transfer: Frühjahrssitzung" in spring
    series = await run_tool(*khal, "01.09.2021", "60d", env=env)
    jour_fixe = [line for line in series.splitlines() if "Jour fixe" in line]
    # 2.9. as the rule says, 16.9. moved to 11:00, 30.9. cancelled (EXDATE), 14.10.
    assert jour_fixe == [
        "02.09.2021 09:00 AG Transfer: Jour fixe",
        "16.09.2021 11:00 AG Transfer: Jour fixe",
        "14.10.2021 09:00 AG Transfer: Jour fixe",
    ]
    july = await run_tool(*khal, "15.07.2021", "1d", env=env)
    assert "Abgesagt: AG Transfer: Abgesagte Runde" in july

"""The web client in a real headless Chromium against a real server, with a terminal
client (a raw protocol Peer) on the other side."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from charla.protocol import Code, Message, Reaction, Read, System
from charla.server import ChatServer, ServerConfig

from ..helpers import Peer, free_port, make_config, running
from .browser import Page, chromium_driver


@pytest.fixture(scope="module")
def page() -> Iterator[Page]:
    driver = chromium_driver()
    try:
        yield Page(driver)
    finally:
        driver.quit()


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[ChatServer]:
    async with running(make_config(tmp_path, web="127.0.0.1:0")) as srv:
        yield srv


def url(server: ChatServer) -> str:
    return f"http://127.0.0.1:{server.web_port}/"


async def test_browser_and_terminal_chat_in_two_rooms(web: ChatServer, page: Page) -> None:
    ana = await Peer.connect(web.port)
    await ana.hello("ana", rooms=["dev"])
    await page.run(page.login, url(web), "bea")
    await page.run(page.type, "/unirse dev")
    page_tabs = await page.run(lambda: page.wait_for(lambda: "#dev" in page.tabs(), "#dev"))
    assert page_tabs
    # Terminal → browser, in both rooms; a mention is highlighted.
    await ana.say("hola bea, ¿qué tal?", room="general")
    await ana.say("el build está roto", room="dev")
    await page.run(page.wait_text, "#dev", "el build está roto")
    await page.run(page.wait_text, "#general", "hola bea, ¿qué tal?")
    general = await page.run(page.lines, "#general")
    assert "mention" in general[-1]["classes"] and general[-1]["nick"] == "ana"
    # Browser → terminal: the room of the tab in front; Shift+Enter makes one message of
    # several lines.
    await page.run(page.type, "lo miro\nahora mismo")
    got = await ana.expect(Message, user="bea")
    assert (got.room, got.text) == ("dev", "lo miro\nahora mismo")
    await page.run(page.select, "#general")
    await page.run(page.type, "bien, gracias")
    got = await ana.expect(Message, user="bea")
    assert (got.room, got.text) == ("general", "bien, gracias")
    # A direct message opens its own tab; an answer there goes back direct.
    await ana.send({"type": "msg", "to": "bea", "text": "¿un café?"})
    await page.run(page.wait_text, "@ana", "¿un café?")
    await page.run(page.select, "@ana")
    await page.run(page.type, "vale")
    got = await ana.expect(Message, user="bea")
    assert (got.to, got.room, got.text) == ("ana", None, "vale")
    # Nothing the page did broke its own rules (a CSP violation or a script error is a
    # console error).
    errors = [e for e in await page.run(page.driver.get_log, "browser") if e["level"] == "SEVERE"]
    assert errors == []
    await ana.close()


async def test_unread_count_in_the_title(web: ChatServer, page: Page) -> None:
    ana = await Peer.connect(web.port)
    await ana.hello("ana", rooms=["dev"])
    await page.run(page.login, url(web), "bea")
    await page.run(page.type, "/join dev")
    await page.run(page.wait_for, lambda: page.js("return document.title") == "charla", "title")
    await ana.say("uno", room="general")
    await ana.say("dos", room="general")
    await page.run(page.wait_text, "#general", "dos")
    assert await page.run(page.js, "return document.title") == "(2) charla"
    await page.run(page.select, "#general")
    assert await page.run(page.js, "return document.title") == "charla"
    await ana.close()


HOSTILE = [
    "<script>window.__pwned = 1</script>",
    '<img src=x onerror="window.__pwned = 1; alert(1)">',
    "javascript:window.__pwned=1",
    "[click](javascript:alert(1)) and <a href=javascript:alert(1)>x</a>",
    "see https://example.org/pr/42?x=1&y=<i>2</i>, now",
    "&lt;b&gt; is not bold",
]


async def test_hostile_messages_are_text_and_run_nothing(web: ChatServer, page: Page) -> None:
    ana = await Peer.connect(web.port)
    await ana.hello("ana")
    await page.run(page.login, url(web), "bea")
    for text in HOSTILE:
        await ana.say(text)
    await page.run(page.wait_text, "#general", HOSTILE[-1])
    lines = {line["text"]: line for line in await page.run(page.lines, "#general")}
    assert list(lines) == HOSTILE  # shown as typed, character for character
    assert await page.run(page.js, "return window.__pwned") is None
    assert await page.run(page.js, "return document.querySelectorAll('.log img').length") == 0
    assert await page.run(page.js, "return document.querySelectorAll('.log script').length") == 0
    for text in HOSTILE[:4] + HOSTILE[5:]:
        assert lines[text]["links"] == [] and lines[text]["elements"] == 0, text
    link = lines[HOSTILE[4]]["links"]
    assert link == [["https://example.org/pr/42?x=1&y=", "noopener noreferrer"]]
    assert lines[HOSTILE[4]]["elements"] == 1  # the link, and no <i>
    from selenium.common.exceptions import NoAlertPresentException

    with pytest.raises(NoAlertPresentException):
        await page.run(lambda: page.driver.switch_to.alert.text)
    await ana.close()


async def test_history_on_join_and_paging_back(tmp_path: Path, page: Page) -> None:
    async with running(make_config(tmp_path, web="127.0.0.1:0", history=10)) as srv:
        ana = await Peer.connect(srv.port)
        await ana.hello("ana", rooms=["old"])
        for i in range(130):
            await ana.say(f"mensaje {i}", room="old")
        await ana.sync()
        await page.run(page.login, url(srv), "bea")
        await page.run(page.type, "/unirse old")
        await page.run(page.wait_text, "#old", "mensaje 129")

        def scroll_to_the_start() -> None:
            top = "return document.querySelector('.log:not([hidden]) .marker').textContent"
            while page.js(top) != "Start of the conversation":
                page.js("document.querySelector('.log:not([hidden])').scrollTop = 0")
                page.wait_for(lambda: page.js(top) != "Loading older messages…", "a page")

        await page.run(scroll_to_the_start)
        lines = await page.run(page.lines, "#old")
        assert [line["text"] for line in lines] == [f"mensaje {i}" for i in range(130)]
        ids = [line["id"] for line in lines]
        assert ids == sorted(set(ids))
        await ana.close()


async def said(peer: Peer, text: str, **fields: Any) -> int:
    """The id of a message ``peer`` says in general (with ``reply_to`` and the like)."""
    await peer.send({"type": "say", "text": text, "room": "general", **fields})
    got: Message = await peer.expect(Message, text=text)
    return got.id


def line_of(page: Page, id_: int) -> dict[str, Any]:
    """What the page shows of message ``id_``: its reply line, text, reactions, classes."""
    return dict(
        page.js(
            """
            const li = document.querySelector(`li.msg[data-id="${arguments[0]}"]`);
            if (!li) return {};
            return {
              parent: li.querySelector('.parent')?.textContent ?? null,
              text: li.querySelector('.text').textContent,
              classes: li.className,
              elements: li.querySelectorAll('img, script, .parent *').length,
              reactions: [...li.querySelectorAll('.reactions button')].map(b =>
                [b.textContent, b.getAttribute('aria-pressed'), b.getAttribute('aria-label')]),
            };
            """,
            id_,
        )
    )


def wait_line(page: Page, id_: int, what: str, check: Any) -> dict[str, Any]:
    return dict(page.wait_for(lambda: (line := line_of(page, id_)) and check(line) and line, what))


def is_deleted(line: dict[str, Any]) -> bool:
    return "deleted" in line["classes"]


async def test_replies_and_reactions_from_a_terminal_show_and_toggle(
    web: ChatServer, page: Page, tmp_path: Path
) -> None:
    ana = await Peer.connect(web.port)
    await ana.hello("ana")
    await page.run(page.login, url(web), "bea")
    question = await said(ana, "¿quién revisa el PR?")
    answer = await said(ana, "yo no puedo", reply_to=question)
    line = await page.run(wait_line, page, answer, "the reply", lambda li: li["parent"])
    assert line["parent"] == "↪ ana: ¿quién revisa el PR?" and line["text"] == "yo no puedo"
    # A parent's text is shown as text, like any message.
    hostile = '<img src=x onerror="window.__pwned = 1">'
    bait = await said(ana, hostile)
    reply = await said(ana, "no lo abras", reply_to=bait)
    line = await page.run(wait_line, page, reply, "the hostile reply", lambda li: li["parent"])
    assert line["parent"] == f"↪ ana: {hostile}" and line["elements"] == 0
    assert await page.run(page.js, "return window.__pwned") is None
    # Ana's reaction shows as a button; a click on it adds Bea's, which Ana sees.
    await ana.send({"type": "react", "id": question, "emoji": "👍"})
    line = await page.run(wait_line, page, question, "a reaction", lambda li: li["reactions"])
    assert line["reactions"] == [["👍 1", "false", "👍 1: ana. Press to add or take back yours"]]
    click = "document.querySelector(`li.msg[data-id='${arguments[0]}'] .reactions button`).click()"
    await page.run(page.js, click, question)
    got = await ana.expect(Reaction, user="bea")
    assert (got.id, got.emoji, got.on) == (question, "👍", True)
    line = await page.run(
        wait_line, page, question, "two", lambda li: li["reactions"][0][0] == "👍 2"
    )
    assert line["reactions"][0][1] == "true"
    await page.run(page.driver.save_screenshot, str(tmp_path / "conversations.png"))
    print(f"screenshot in {tmp_path}")
    errors = [e for e in await page.run(page.driver.get_log, "browser") if e["level"] == "SEVERE"]
    assert errors == []
    await ana.close()


async def test_edits_and_deletes_update_the_page(web: ChatServer, page: Page) -> None:
    ana = await Peer.connect(web.port)
    await ana.hello("ana")
    await page.run(page.login, url(web), "bea", "es")
    typo = await said(ana, "mañana a las 10")
    gone = await said(ana, "la contraseña es hunter2")
    await ana.send({"type": "react", "id": gone, "emoji": "👀"})
    await page.run(wait_line, page, gone, "the reaction", lambda li: li["reactions"])
    await ana.send({"type": "edit", "id": typo, "text": "mañana a las 11"})
    line = await page.run(wait_line, page, typo, "the edit", lambda li: "11" in li["text"])
    assert line["text"] == "mañana a las 11 (editado)"
    await ana.send({"type": "delete", "id": gone})
    line = await page.run(wait_line, page, gone, "the delete", is_deleted)
    assert (line["text"], line["reactions"]) == ("mensaje borrado", [])
    # What a page that comes later gets from the history shows the same.
    await page.run(page.login, url(web), "carla", "es")
    line = await page.run(wait_line, page, gone, "history", is_deleted)
    assert line["text"] == "mensaje borrado"
    assert (await page.run(line_of, page, typo))["text"] == "mañana a las 11 (editado)"
    await ana.close()


async def test_the_topic_shows_under_the_tabs(web: ChatServer, page: Page) -> None:
    ana = await Peer.connect(web.port)
    await ana.hello("ana", rooms=["tema"])  # the first in a room owns it
    await ana.send({"type": "topic", "room": "tema", "text": "revisión <b>semanal</b>"})
    await page.run(page.login, url(web), "bea")
    await page.run(page.type, "/join tema")
    topic = "return document.getElementById('topic').textContent"
    await page.run(page.wait_for, lambda: page.js(topic) == "revisión <b>semanal</b>", "topic")
    await ana.send({"type": "topic", "room": "tema", "text": "viernes"})
    await page.run(page.wait_for, lambda: page.js(topic) == "viernes", "new topic")
    # /modo alone says the room's modes (none: nobody registered owns it), in the page's
    # language.
    await page.run(page.type, "/modo")
    modes = "return [...document.querySelectorAll('li.system')].map(li => li.textContent)"
    await page.run(page.wait_for, lambda: "Modes of #tema: none" in page.js(modes), "the modes")
    await page.run(page.select, "#general")
    assert await page.run(page.js, "return document.getElementById('topic').hidden") is True
    await ana.close()


def badge(page: Page, tab: str) -> list[Any]:
    """The count on ``tab`` and whether it is red (a mention)."""
    return list(
        page.js(
            """
            const tab = [...document.querySelectorAll('[role=tab]')]
              .find(t => t.firstChild.textContent === arguments[0]);
            return [tab.querySelector('.badge').textContent, tab.classList.contains('alert')];
            """,
            tab,
        )
    )


async def test_unread_counts_come_from_the_read_markers(web: ChatServer, page: Page) -> None:
    password = "una-clave-larga"
    ana = await Peer.connect(web.port)
    await ana.hello("ana", rooms=["dev"])
    bea = await Peer.connect(web.port)  # Bea's terminal, still open when she opens the page
    await bea.hello("bea", rooms=["dev"])
    await bea.send({"type": "register", "password": password, "label": "r"})
    await bea.expect(System, event="registered", label="r")
    await ana.say("antes", room="dev")
    first = await bea.expect(Message, text="antes")
    await bea.send({"type": "mark_read", "room": "dev", "id": first.id, "label": "k"})
    await bea.expect(Read, label="k")
    for text in ("uno", "bea: ¿lo ves?", "tres"):
        await ana.say(text, room="dev")
    newest = [(await bea.expect(Message, room="dev")).id for _ in range(3)][-1]
    # The page, a second session of Bea, opens on #general: #dev counts what she did not read.
    await page.run(page.login, url(web), "bea", "en-US", password)
    await page.run(page.wait_for, lambda: badge(page, "#dev") == ["3", True], "the count")
    assert await page.run(page.js, "return document.title") == "(3) charla"
    # Reading it in the terminal clears it in the page.
    await bea.send({"type": "mark_read", "room": "dev", "id": newest})
    await page.run(page.wait_for, lambda: badge(page, "#dev") == ["", False], "cleared")
    # What the page shows in front is read: the terminal is told.
    await ana.say("en general", room="general")
    said_id = (await bea.expect(Message, text="en general")).id
    read = await bea.expect(Read, room="general")
    assert read.id == said_id
    await ana.close()
    await bea.close()


def fixed_ports(config: ServerConfig) -> ServerConfig:
    return dataclasses.replace(config, port=free_port(), web=f"127.0.0.1:{free_port()}")


async def test_the_page_survives_a_server_restart(tmp_path: Path, page: Page) -> None:
    config = fixed_ports(make_config(tmp_path))
    async with running(config) as srv:
        ana = await Peer.connect(srv.port)
        await ana.hello("ana", rooms=["dev"])
        await page.run(page.login, url(srv), "bea")
        await page.run(page.type, "/unirse dev")
        await ana.say("antes", room="dev")
        await page.run(page.wait_text, "#dev", "antes")
        await ana.close()
    # The server is down: what the user types now waits for it.
    await page.run(
        page.wait_for,
        lambda: page.js("return document.getElementById('status').dataset.kind") == "down",
        "disconnected",
    )
    await page.run(page.type, "escrito sin conexión")
    async with running(config) as srv:
        ana = await Peer.connect(srv.port)
        await ana.hello("ana", rooms=["dev"])
        await ana.say("mientras vuelve", room="dev")  # before or after the page is back
        got = await ana.expect(Message, user="bea", timeout=40)
        assert got.text == "escrito sin conexión"
        await ana.say("después", room="dev")
        await page.run(page.wait_text, "#dev", "después")
        lines = await page.run(page.lines, "#dev")
        texts = [line["text"] for line in lines]
        assert texts == [
            "antes",
            "mientras vuelve",
            "escrito sin conexión",
            "después",
        ] or texts == ["antes", "escrito sin conexión", "mientras vuelve", "después"]
        ids = [line["id"] for line in lines]
        assert ids == sorted(set(ids))  # nothing doubled, in order
        assert srv.store.count("dev") == 4
        await ana.close()


async def test_the_rate_limit_holds_for_a_browser(tmp_path: Path, page: Page) -> None:
    config = make_config(tmp_path, web="127.0.0.1:0", rate_limit=0.5, burst=3, flood_queue=4)
    async with running(config) as srv:
        await page.run(page.login, url(srv), "bea")
        # A script in the page sending as fast as it can.
        await page.run(
            page.js,
            """
            const input = document.getElementById('input');
            for (let i = 0; i < 40; i++) {
              input.value = 'spam ' + i;
              document.getElementById('say-form').requestSubmit();
            }""",
        )
        assert srv.hub is not None
        hub = srv.hub
        await page.run(page.wait_for, lambda: hub.metrics.cut_offs[Code.FLOOD] >= 1, "cut-off")
        assert srv.store.count("general") <= 3 + 1


SIZES = [(1280, 800), (390, 844)]


async def test_screenshots(tmp_path: Path, page: Page, tmp_path_factory: Any) -> None:
    """The page at a desktop and a phone size, in Spanish and English, saved for people
    to look at (the path is printed)."""
    out = tmp_path_factory.mktemp("screenshots")
    for lang in ("es", "en"):
        async with running(make_config(tmp_path / lang, web="127.0.0.1:0")) as srv:
            await screenshots_of(srv, page, lang, out)
    print(f"screenshots in {out}")


async def screenshots_of(srv: ChatServer, page: Page, lang: str, out: Path) -> None:
    peers = []
    for nick in ("ana", "carlos", "lucía"):
        peer = await Peer.connect(srv.port)
        await peer.hello(nick, rooms=["dev"])
        peers.append(peer)
    ana, carlos, _ = peers
    await page.run(page.login, url(srv), "bea", lang)
    await page.run(page.type, "/unirse dev")
    await ana.say("¿alguien revisó el PR de la caché? https://example.org/pr/42", room="dev")
    await carlos.say("sí, bea: falta un test para el caso vacío", room="dev")
    await carlos.send({"type": "me", "text": "se va a comer", "room": "dev"})
    await page.run(page.type, "lo añado esta tarde\ny lo fusiono")
    await page.run(page.wait_text, "#dev", "lo añado esta tarde\ny lo fusiono")
    await ana.say("gracias 🙌", room="general")
    assert await page.run(page.js, "return document.documentElement.lang") == lang
    for width, height in SIZES:
        await page.run(page.viewport, width, height)
        await page.run(page.js, "document.querySelector('.log:not([hidden])').scrollTop = 1e9")
        path = out / f"charla-web-{lang}-{width}x{height}.png"
        await page.run(page.driver.save_screenshot, str(path))
        assert path.stat().st_size > 10_000
    dark = {"features": [{"name": "prefers-color-scheme", "value": "dark"}]}
    await page.run(page.driver.execute_cdp_cmd, "Emulation.setEmulatedMedia", dark)
    await page.run(page.driver.save_screenshot, str(out / f"charla-web-{lang}-dark.png"))
    await page.run(page.driver.execute_cdp_cmd, "Emulation.setEmulatedMedia", {"features": []})
    await page.run(page.reset_viewport)
    for peer in peers:
        await peer.close()


def system_lines(page: Page) -> list[str]:
    return list(
        page.js("return [...document.querySelectorAll('li.system')].map(li => li.textContent)")
    )


async def test_listings_show_in_the_log(tmp_path: Path, page: Page) -> None:
    config = make_config(tmp_path, web="127.0.0.1:0", operators=("ana",))
    async with running(config) as server:
        bob = await Peer.connect(server.port)
        await bob.hello("bob")
        await bob.say("hola desde la terminal")
        await bob.sync()
        await page.run(page.login, url(server), "ana")
        for command in ["/registrar una-clave-larga", "/vetar eve spam", "/modo +m"]:
            await page.run(page.type, command)
        for command in ["/modo", "/vetados", "/registro", "/privados", "/buscar terminal"]:
            await page.run(page.type, command)
        expected = [
            "Modes of #general: +m (moderated)",
            "Bans in #general:",
            "eve, by ana: spam",
            "Moderation log of #general:",
            "No direct conversations yet",
            "1 found for terminal",
        ]
        await page.run(
            page.wait_for, lambda: all(e in system_lines(page) for e in expected), "the listings"
        )
        lines = system_lines(page)
        assert any(line.endswith("ana: /ban #general eve — spam") for line in lines), lines
        assert any(line.endswith("#general bob: hola desde la terminal") for line in lines), lines
        await bob.close()

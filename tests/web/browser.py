"""A real headless Chromium (Debian's chromium and chromium-driver) driven by Selenium.

Selenium blocks: the tests run its calls in a thread (:meth:`Page.run`), so the server
under test keeps running on the test's event loop meanwhile.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

T = TypeVar("T")

WAIT = 15.0


def chromium_driver() -> Any:
    """A headless Chromium, or a skip when it is not installed (a failure on CI, whose
    .ci/run installs it)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        message = "needs chromium and chromedriver (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,800",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(driver_path))


class Page:
    """The web client in the browser, as a user sees it."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(fn, *args)

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def wait_for(self, condition: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.support.ui import WebDriverWait

        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(
                lambda _: condition()
            )
        except TimeoutException:
            raise AssertionError(f"timed out waiting for {what}") from None

    def use_language(self, accept_language: str) -> None:
        """What navigator.languages says from the next page load on."""
        agent = self.js("return navigator.userAgent")
        self.driver.execute_cdp_cmd(
            "Network.setUserAgentOverride",
            {"userAgent": agent, "acceptLanguage": accept_language},
        )

    def open(self, url: str, lang: str = "en-US") -> None:
        self.driver.get("about:blank")
        self.use_language(lang)
        self.driver.get(url)
        self.wait_for(lambda: self.js("return document.getElementById('nick') !== null"), "page")

    def login(self, url: str, nick: str, lang: str = "en-US", password: str = "") -> None:
        self.open(url, lang)
        self.js(
            "document.getElementById('nick').value = arguments[0];"
            "document.getElementById('password').value = arguments[1];"
            "document.getElementById('login-form').requestSubmit();",
            nick,
            password,
        )
        self.wait_for(lambda: self.js("return !document.getElementById('chat').hidden"), "chat")
        self.wait_for(lambda: self.tabs(), "a room")

    def type(self, text: str) -> None:
        """Type ``text`` (newlines as Shift+Enter) and press Enter, as a user would."""
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys

        field = self.driver.find_element(By.ID, "input")
        lines = text.split("\n")
        for i, line in enumerate(lines):
            field.send_keys(line)
            if i < len(lines) - 1:
                field.send_keys(Keys.SHIFT, Keys.ENTER)
        field.send_keys(Keys.ENTER)

    def tabs(self) -> list[str]:
        return list(
            self.js(
                "return [...document.querySelectorAll('[role=tab]')]"
                ".map(t => t.firstChild.textContent)"
            )
        )

    def select(self, tab: str) -> None:
        self.wait_for(lambda: tab in self.tabs(), f"tab {tab}")
        self.js(
            "[...document.querySelectorAll('[role=tab]')]"
            ".find(t => t.firstChild.textContent === arguments[0]).click()",
            tab,
        )

    def lines(self, tab: str) -> list[dict[str, Any]]:
        """The messages shown in ``tab``: id, nick, text, classes, links."""
        return list(
            self.js(
                """
                const tab = [...document.querySelectorAll('[role=tab]')]
                  .find(t => t.firstChild.textContent === arguments[0]);
                if (!tab) return [];
                const log = document.getElementById(tab.getAttribute('aria-controls'));
                return [...log.querySelectorAll('li.msg')].map(li => ({
                  id: Number(li.dataset.id),
                  nick: li.querySelector('.nick').textContent,
                  text: li.querySelector('.text').textContent,
                  classes: li.className,
                  links: [...li.querySelectorAll('a')].map(a => [a.getAttribute('href'), a.rel]),
                  elements: li.querySelector('.text').querySelectorAll('*').length,
                }));
                """,
                tab,
            )
        )

    def texts(self, tab: str) -> list[str]:
        return [line["text"] for line in self.lines(tab)]

    def wait_text(self, tab: str, text: str) -> None:
        self.wait_for(lambda: text in self.texts(tab), f"{text!r} in {tab}")

    def viewport(self, width: int, height: int) -> None:
        self.driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
        )

    def reset_viewport(self) -> None:
        self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

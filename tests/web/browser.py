"""Headless Chromium for page tests: the system browser and driver, never a download.

Selenium is handed ``/usr/bin/chromedriver`` explicitly, so Selenium Manager never runs
(it would fetch a browser). Tests skip, saying what to install, where either is missing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
MISSING = "headless Chromium not installed: apt-get install -y chromium chromium-driver"
OPTIONS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
    "--mute-audio",
    "--window-size=420,900",
)


def available() -> bool:
    """True when both the browser and its driver are installed."""
    return all(p.is_file() and os.access(p, os.X_OK) for p in (CHROMIUM, CHROMEDRIVER))


@contextmanager
def chromium(profile: Path) -> Iterator[Any]:
    """A headless Chromium WebDriver with a throwaway profile; skips if not installed."""
    if not available():
        pytest.skip(MISSING)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*OPTIONS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        driver.set_page_load_timeout(30)
        yield driver
    finally:
        driver.quit()


def wait_for(driver: Any, script: str, *args: Any, timeout: float = 20) -> Any:
    """Run ``script`` (returning a value) until it returns something truthy; that value."""
    from selenium.webdriver.support.ui import WebDriverWait

    check: Callable[[Any], Any] = lambda d: d.execute_script(script, *args)  # noqa: E731
    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(check)

"""The studio in a real browser: headless Chromium drives ``routinecast studio`` end to end.

The studio runs as the command a user starts (a subprocess, the default engine: the real
piper voice), on a copy of the routines folder. The browser picks ``desk-hip-reset``,
holds the half-kneeling stretch 45 s, sees the total change, builds, waits for the player,
checks the audio's duration against the built timeline, and saves a variant. With
``ROUTINECAST_SCREENSHOT=1`` it also sends it to the phone and writes the README's
screenshot, ``docs/studio.png`` (normal runs leave the repository alone).

Skipped, saying what to install, where Chromium or its driver is missing.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from browser import wait_for
from studiokit import ROUTINES, start_studio

import routinecast
from routinecast.load.overrides import parse_overrides

pytestmark = pytest.mark.slow
HOLD_45 = "half-kneeling-hip-flexor-stretch.hold=45s"
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "studio.png"
PLAN_SHOWN = """
const plan = document.getElementById('plan');
const total = document.getElementById('total').textContent;
return !plan.classList.contains('stale') && total !== '\u2013' && total !== arguments[0] && total;
"""


def clock(ms: int) -> str:
    """The page's clock: whole seconds rounded half up, m:ss."""
    seconds = int(ms / 1000 + 0.5)
    return f"{seconds // 60}:{seconds % 60:02d}"


def test_tailor_build_listen_and_save_in_the_browser(browser: Any, tmp_path: Path) -> None:
    folder = Path(shutil.copytree(ROUTINES, tmp_path / "routines"))
    out = tmp_path / "output"
    running = start_studio(str(folder), "--no-browser", "--port", "0", "--output", str(out))
    try:
        _drive(browser, running.url, folder, out)
    finally:
        code, _, err = running.stop()
    assert code == 0, err
    assert "Traceback" not in err


def _drive(driver: Any, url: str, folder: Path, out: Path) -> None:
    from selenium.webdriver.common.by import By

    driver.set_window_size(1440, 1000)
    driver.get(url)
    pick = 'button[data-file="desk-hip-reset.yaml"]'
    wait_for(driver, "return document.querySelector(arguments[0])", pick).click()
    before = wait_for(driver, PLAN_SHOWN, "")
    hold = driver.find_element(By.CSS_SELECTOR, 'input[data-step="2"][data-field="hold"]')
    step = hold.find_element(By.XPATH, "ancestor::li[@data-step]")
    assert "Half-kneeling hip flexor stretch" in step.text
    assert hold.get_attribute("value") == "30s"
    hold.clear()
    hold.send_keys("45s")
    after = wait_for(driver, PLAN_SHOWN, before)
    options = routinecast.BuildOptions(overrides=parse_overrides((HOLD_45,)))
    planned = routinecast.plan(folder / "desk-hip-reset.yaml", options)
    assert after == clock(planned.duration_ms) != before

    driver.find_element(By.ID, "build").click()
    wait_for(driver, "return !document.getElementById('player').hidden", timeout=900)
    duration = wait_for(
        driver,
        "const a = document.getElementById('audio');"
        "return a.readyState >= 1 && isFinite(a.duration) && a.duration;",
        timeout=60,
    )
    (built_path,) = out.glob("desk-hip-reset-*.timeline.json")
    built = json.loads(built_path.read_text("utf-8"))
    assert abs(duration - built["duration_ms"] / 1000) <= 0.1
    shown = driver.find_element(By.ID, "built").get_attribute("data-duration-ms")
    assert int(shown) == built["duration_ms"]
    exact = clock(built["duration_ms"])  # every line spoken now: the plan is exact
    wait_for(driver, "return document.getElementById('total').textContent === arguments[0]", exact)
    assert driver.find_element(By.ID, "estimated").text == ""
    works = [b for b in built["blocks"] if b["kind"] == "work" and b["step"] == 2]
    assert [b["end_ms"] - b["start_ms"] for b in works] == [45_000] * 4
    chapters = driver.find_elements(By.CSS_SELECTOR, "#chapters button")
    texts = [c.get_attribute("textContent") for c in chapters]
    assert len(texts) == len(built["chapters"])
    assert all(text.endswith(c["title"]) for text, c in zip(texts, built["chapters"], strict=True))

    driver.find_element(By.ID, "save-name").send_keys("Maria week 2")
    driver.find_element(By.ID, "save").click()
    saved = wait_for(driver, "return document.getElementById('saved').dataset.file")
    assert saved == "desk-hip-reset-maria-week-2.yaml"
    variant = (folder / saved).read_text("utf-8")
    assert "extends: desk-hip-reset.yaml" in variant and "hold: 45s" in variant
    wait_for(driver, "return document.querySelector(arguments[0])", f'button[data-file="{saved}"]')
    if os.environ.get("ROUTINECAST_SCREENSHOT") == "1":
        _screenshot(driver)


def _screenshot(driver: Any) -> None:
    """The whole page at a desktop width, from the top, with the phone's QR code.

    Only here does the test press "Send to phone", which shares on the LAN address.
    """
    phone = driver.find_element("id", "phone")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", phone)
    phone.click()
    wait_for(driver, "return document.querySelector('#qr svg')")
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1440, min(height + 200, 4000))
    driver.execute_script("window.scrollTo(0, 0)")
    wait_for(driver, "return document.readyState === 'complete'")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    assert driver.save_screenshot(str(SCREENSHOT))

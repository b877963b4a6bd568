"""The HTML reports in a real browser (headless Chromium through chromedriver): every audio
element loads with a duration, every image decodes, and the console stays clean."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not (chromium and driver_path):
        if os.environ.get("CI"):
            pytest.fail("chromium/chromedriver missing in CI; .ci/run must install them")
        pytest.skip("chromium and chromium-driver are not installed (apt-get install chromium "
                    "chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--autoplay-policy=no-user-gesture-required"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    yield driver
    driver.quit()


STATE = """
const audio = [...document.querySelectorAll('audio')];
const images = [...document.images];
return {
  audio: audio.map(a => [a.getAttribute('src'), a.readyState, a.duration,
                         a.error ? a.error.code : null]),
  images: images.map(i => [i.getAttribute('src'), i.complete, i.naturalWidth]),
};
"""


def load(driver, page: Path) -> dict:
    driver.get(page.as_uri())
    deadline = time.time() + 20
    while True:
        state = driver.execute_script(STATE)
        ready = all(a[1] >= 1 or a[3] for a in state["audio"]) and \
            all(i[1] for i in state["images"])
        if ready or time.time() > deadline:
            return state
        time.sleep(0.2)


def test_run_and_sweep_reports_load_in_chromium(browser, cli, tmp_path, tiny):
    run = tmp_path / "mask"
    assert cli("optimize", f"classifier={tiny / 'crnn_mel.json'}", "target=[angry,sad]",
               "steps=6", "min_steps=2", "record_every=2", "quiet=true",
               f"hydra.run.dir={run}").code == 0
    state = load(browser, run / "report.html")
    assert len(state["audio"]) == 4  # input + output for each of the two items
    for src, ready, duration, error in state["audio"]:
        assert error is None and ready >= 1 and duration > 0, (src, ready, duration, error)
    assert len(state["images"]) == 4  # mask + spectrogram per item
    for src, complete, width in state["images"]:
        assert complete and width > 0, src

    sweep = tmp_path / "sweep"
    cli("optimize", "-m", f"classifier={tiny / 'cnn_raw.json'}", "steps=4", "min_steps=1",
        "record_every=2", "quiet=true", "cues=false", f"hydra.sweep.dir={sweep}",
        "target=angry,furious")
    browser.get((sweep / "index.html").as_uri())
    assert "1 done, 1 failed" in browser.page_source
    browser.find_element("link text", "0").click()  # the job's own report opens
    state = load(browser, sweep / "0" / "report.html")
    assert state["audio"] and all(a[2] > 0 for a in state["audio"])
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors

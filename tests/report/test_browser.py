"""The report as a person sees it: headless Chromium opens it, logs no console error, draws every figure.

Needs Debian's `chromium` and `chromium-driver` (`make browser` installs them) and selenium (dev
dependency). The screenshot goes to the test's tmp folder (and to $REPORT_SCREENSHOT if set).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from astrobio.report.build import write_report
from tests.report.fixture_run import write_run

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--window-size=1200,900")


@pytest.fixture
def browser(tmp_path):
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver, "chromium and chromium-driver are not installed: run `make browser`"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    session = webdriver.Chrome(options=options, service=Service(driver))
    yield session
    session.quit()


def open_report(browser, tmp_path: Path, failed: bool) -> Path:
    run_dir = write_run(tmp_path, failed=failed)
    path = write_report(json.loads((run_dir / "run.json").read_text()), run_dir / "report.html", {}, run_dir)
    browser.get(path.as_uri())
    return path


def test_report_renders_every_figure_without_console_errors(browser, tmp_path):
    open_report(browser, tmp_path, failed=False)
    sizes = browser.execute_script(
        "return Array.from(document.querySelectorAll('figure svg')).map(s => {"
        "const r = s.getBoundingClientRect(); return [r.width, r.height];});")
    assert len(sizes) >= 15  # the DAG, and curves + baselines + its own figure for each of 7 components
    assert all(w > 50 and h > 50 for w, h in sizes), sizes
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert errors == []
    shot = tmp_path / "report.png"
    browser.set_window_size(1200, int(browser.execute_script("return document.body.scrollHeight")))
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    if os.environ.get("REPORT_SCREENSHOT"):
        shutil.copy(shot, os.environ["REPORT_SCREENSHOT"])


def test_failed_run_report_says_which_step_failed_and_why(browser, tmp_path):
    open_report(browser, tmp_path, failed=True)
    text = browser.find_element("id", "failure").text
    assert "train-fusion" in text and "failed" in text and "ValueError: fusion data is empty" in text
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []

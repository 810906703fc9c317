"""The HTML page in a real browser: headless Chromium driven by Selenium.

The page of `mbcalc table mobilenet_v1` is loaded from a file, drawn (a screenshot), and read
from the DOM: one row per op, the totals of the JSON report, a click on the mult-adds heading
sorting the rows by their exact counts; a spec named with a script shows its name as text.
Needs Debian's chromium and chromium-driver (`.ci/run` installs them); skipped without them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import mbcalc
from tests.helpers.cli import PNG_MAGIC, ok
from tests.helpers.html_page import HOSTILE_NAME, write_hostile_spec

if TYPE_CHECKING:
    from selenium.webdriver import Chrome as WebDriver

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs Debian's chromium and chromium-driver",
    ),
]

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
)
"""A browser that runs anywhere (no display, no sandbox, no GPU) and reaches for no network."""


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    service = webdriver.ChromeService(executable_path=str(CHROMEDRIVER))
    driver = webdriver.Chrome(options=options, service=service)
    try:
        yield driver
    finally:
        driver.quit()


def load(browser: WebDriver, page: Path) -> None:
    """Open the page from its file; it must load nothing else, and its script run to the end
    (every sortable heading made reachable by the keyboard)."""
    browser.get(page.as_uri())
    resources = browser.execute_script("return performance.getEntriesByType('resource').length")
    assert resources == 0
    headings = "th[data-sort]:not([tabindex])"
    assert browser.execute_script(f"return document.querySelectorAll('{headings}').length") == 0


def mult_adds_of_rows(browser: WebDriver) -> list[int]:
    """The mult-adds (`data-value`) of the op rows, in the order the page shows them."""
    cells = browser.execute_script(
        "return Array.from(document.querySelectorAll('table.ops tbody tr.op'))"
        ".map(row => row.cells[4].getAttribute('data-value'))"
    )
    return [int(cell) for cell in cells]


def test_the_table_page_in_a_browser(tmp_path: Path, browser: WebDriver) -> None:
    from selenium.webdriver.common.by import By

    page = tmp_path / "report.html"
    ok("table", "mobilenet_v1", "--format", "html", "-o", str(page))
    load(browser, page)

    screenshot = tmp_path / "report.png"
    assert browser.save_screenshot(os.fspath(screenshot))
    image = screenshot.read_bytes()
    assert image.startswith(PNG_MAGIC)
    assert len(image) > 10_000  # a page drawn, not a blank one

    analysis = mbcalc.analyze("mobilenet_v1")
    ops = browser.find_elements(By.CSS_SELECTOR, "table.ops tbody tr.op")
    assert len(ops) == len(analysis.ops)
    total = json.loads(ok("table", "mobilenet_v1", "--format", "json"))["total"]
    foot = browser.find_elements(By.CSS_SELECTOR, "table.ops tfoot td")
    assert int(foot[4].get_attribute("data-value") or "") == total["mult_adds"]
    assert int(foot[6].get_attribute("data-value") or "") == total["params"]
    assert foot[4].text == f"{total['mult_adds']:,}"

    built = mult_adds_of_rows(browser)
    assert built == [op.mult_adds for op in analysis.ops]
    (heading,) = [
        th
        for th in browser.find_elements(By.CSS_SELECTOR, "table.ops thead th")
        if th.text.startswith("mult-adds")
    ]
    units = browser.find_elements(By.CSS_SELECTOR, "table.ops tbody tr.unit")
    assert units
    assert all(unit.is_displayed() for unit in units)
    heading.click()
    assert mult_adds_of_rows(browser) == sorted(built, reverse=True)
    assert heading.get_attribute("aria-sort") == "descending"
    assert not any(unit.is_displayed() for unit in units)  # a sorted table has no groups
    heading.click()
    assert mult_adds_of_rows(browser) == sorted(built)
    heading.click()
    assert mult_adds_of_rows(browser) == built  # the third click: the report's order again
    assert all(unit.is_displayed() for unit in units)


def test_a_spec_named_with_a_script_shows_the_name_as_text(
    tmp_path: Path, browser: WebDriver
) -> None:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    page = tmp_path / "hostile.html"
    ok("table", str(write_hostile_spec(tmp_path)), "--format", "html", "-o", str(page))
    load(browser, page)
    assert browser.find_element(By.TAG_NAME, "h1").text == HOSTILE_NAME
    assert browser.title == f"{HOSTILE_NAME} — alpha 1, 32x32"
    assert len(browser.find_elements(By.TAG_NAME, "script")) == 1  # the page's own
    assert browser.find_elements(By.TAG_NAME, "img") == []
    names = [row.text for row in browser.find_elements(By.CSS_SELECTOR, "tr.op td:first-child")]
    assert names[0] == "<img src=x onerror=alert(2)>"
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018 (reading it is what fails without an alert)

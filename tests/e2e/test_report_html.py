"""The HTML report of a real demo run, opened in headless Chromium.

The demo suite (and one example test that clicks, for a filmstrip of several
frames) runs with ``--artifacts-mode=filmstrip``; ``lambda-ui report html`` renders
its report; Selenium checks what a person would: the failing test's screenshot is
actually displayed, the outcome filter and the text box hide what they should,
the filmstrip steps, a timeline bar opens its test, and the page source link works.
A second run streams its artifacts to the loopback S3 and is checked through
presigned links.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement

from lambda_ui.cli.report import main
from lambda_ui.runner.chrome import chrome_flags, locate_chrome, name_the_shell
from stand_ins.services import AWS_TEST_ENV, LoopbackS3
from tests.conftest import REPO

#: The report is the subject, not the browser that shows it (tests/conftest.py).
pytestmark = [pytest.mark.e2e, pytest.mark.headless_shell]

SELECTION = "test_demo or test_add_items_with_button_and_enter"


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd, capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})},
    )
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-2000:]


@pytest.fixture(scope="module")
def local_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("html-run")
    demo, ui = os.path.join(REPO, "examples", "demo"), os.path.join(REPO, "examples", "ui", "test_interactions.py")
    _run([demo, ui, "-k", SELECTION, "--junitxml=r.xml", "--artifacts=art", "--artifacts-mode=filmstrip"], cwd=work)
    saved = os.getcwd()
    os.chdir(work)  # artifact paths are relative to where pytest ran
    try:
        assert main(["html", "r.xml", "-o", "out/report.html"]) == 0
    finally:
        os.chdir(saved)
    return work / "out" / "report.html"


@pytest.fixture(scope="module")
def s3_html(tmp_path_factory: pytest.TempPathFactory, loopback_s3: LoopbackS3) -> Iterator[Path]:
    work = tmp_path_factory.mktemp("html-s3-run")
    env = {**AWS_TEST_ENV, "AWS_ENDPOINT_URL_S3": loopback_s3.endpoint}
    bucket = f"html-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=loopback_s3.endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing").create_bucket(Bucket=bucket)
    _run([os.path.join(REPO, "examples", "demo"), "-k", "matches_catalogue", "--junitxml=r.xml", f"--artifacts=s3://{bucket}/runs"], cwd=work, env=env)
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        assert main(["html", str(work / "r.xml"), "-o", str(work / "report.html"), "--expires", "900"]) == 0
    finally:
        os.environ.clear()
        os.environ.update(saved)
    yield work / "report.html"


@pytest.fixture(scope="module")
def driver() -> Iterator[WebDriver]:
    location = locate_chrome(None, None, None, None)
    options = webdriver.ChromeOptions()
    options.binary_location = location.binary
    name_the_shell(options)
    with tempfile.TemporaryDirectory(prefix="report-html-chrome-") as profile:
        for flag in chrome_flags(profile, (1280, 1000)):
            options.add_argument(flag)
        browser = webdriver.Chrome(options=options, service=webdriver.ChromeService(location.driver))
        try:
            yield browser
        finally:
            browser.quit()


def _open(driver: WebDriver, page: Path) -> None:
    driver.get(page.as_uri())
    driver.execute_script("return document.readyState")


def _visible_rows(driver: WebDriver) -> list[WebElement]:
    return [row for row in driver.find_elements(By.CSS_SELECTOR, "li.test") if row.is_displayed()]


def _image_shown(driver: WebDriver, image: WebElement) -> bool:
    driver.execute_script("arguments[0].scrollIntoView()", image)
    loaded = driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image)
    return bool(loaded) and image.is_displayed() and image.size["width"] > 100


def test_failing_test_screenshot_is_displayed(driver: WebDriver, local_html: Path) -> None:
    _open(driver, local_html)
    failed = driver.find_element(By.CSS_SELECTOR, 'li.test[data-outcome="failed"]')
    assert "test_product_heading_matches_catalogue" in failed.text
    shot = failed.find_element(By.CSS_SELECTOR, 'img[data-label="screenshot"]')
    assert shot.get_attribute("src").startswith("data:image/png;base64,")
    assert _image_shown(driver, shot)
    assert "Ridgeline Down Jacket" in failed.find_element(By.CSS_SELECTOR, "pre.message").text
    assert "Low stock" in failed.text  # the console log, inlined
    errored = driver.find_element(By.CSS_SELECTOR, 'li.test[data-outcome="error"]')
    assert _image_shown(driver, errored.find_element(By.CSS_SELECTOR, 'img[data-label="screenshot"]'))


def test_outcome_buttons_and_text_box_filter_the_list(driver: WebDriver, local_html: Path) -> None:
    _open(driver, local_html)
    assert len(_visible_rows(driver)) == 7
    driver.find_element(By.CSS_SELECTOR, 'button[data-filter="failed"]').click()
    rows = _visible_rows(driver)
    assert [r.get_attribute("data-outcome") for r in rows] == ["failed"]
    assert not any(r.is_displayed() for r in driver.find_elements(By.CSS_SELECTOR, 'li.test[data-outcome="passed"]'))
    assert driver.find_element(By.ID, "shown").text == "1 of 7 tests shown"
    driver.find_element(By.CSS_SELECTOR, 'button[data-filter="all"]').click()
    box = driver.find_element(By.ID, "search")
    box.send_keys("ACCOUNT")
    rows = _visible_rows(driver)
    assert len(rows) == 1 and "test_account_summary" in rows[0].text
    box.clear()
    box.send_keys("no such element")  # matches the message, not the name
    assert [r.get_attribute("data-outcome") for r in _visible_rows(driver)] == ["error"]


def test_filmstrip_steps_through_frames_in_order(driver: WebDriver, local_html: Path) -> None:
    _open(driver, local_html)
    row = driver.find_element(By.XPATH, '//li[contains(@class,"test")][.//span[contains(.,"test_add_items_with_button_and_enter")]]')
    row.find_element(By.TAG_NAME, "summary").click()
    strip = row.find_element(By.CSS_SELECTOR, ".filmstrip")
    frames = strip.find_elements(By.CSS_SELECTOR, ".frame")
    assert len(frames) >= 2
    position = strip.find_element(By.CSS_SELECTOR, ".pos")
    assert position.text == f"1 / {len(frames)}"
    captions = []
    for _ in frames:
        shown = [f for f in frames if f.is_displayed()]
        assert len(shown) == 1
        image = shown[0].find_element(By.TAG_NAME, "img")
        assert _image_shown(driver, image)
        captions.append(shown[0].find_element(By.CSS_SELECTOR, "figcaption .cap").text)
        strip.find_element(By.CSS_SELECTOR, ".next").click()
    assert captions[0] == "step 1: navigate" and any("click" in c for c in captions)
    assert position.text == f"1 / {len(frames)}"  # wrapped around
    strip.find_element(By.CSS_SELECTOR, ".prev").click()
    assert position.text == f"{len(frames)} / {len(frames)}"


def test_timeline_bar_opens_its_test(driver: WebDriver, local_html: Path) -> None:
    _open(driver, local_html)
    bars = driver.find_elements(By.CSS_SELECTOR, "svg.timeline rect.bar")
    assert len(bars) == 7
    assert len(driver.find_elements(By.CSS_SELECTOR, "svg.timeline rect.bar.o-failed")) == 1
    driver.find_element(By.CSS_SELECTOR, 'button[data-filter="failed"]').click()
    target = driver.find_element(By.CSS_SELECTOR, 'li.test[data-outcome="passed"]')
    link = driver.find_element(By.CSS_SELECTOR, f'svg.timeline a[href="#{target.get_attribute("id")}"]')
    driver.execute_script("arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))", link)
    assert target.is_displayed()
    assert driver.execute_script("return arguments[0].querySelector('details').open", target)


def test_page_source_link_points_at_the_saved_page(driver: WebDriver, local_html: Path) -> None:
    _open(driver, local_html)
    failed = driver.find_element(By.CSS_SELECTOR, 'li.test[data-outcome="failed"]')
    href = failed.find_element(By.LINK_TEXT, "page source").get_attribute("href")
    assert href.startswith("file://") and href.endswith("/failure-page.html")
    driver.get(href)
    assert "Ridgeline Down Jacket" in driver.page_source


def test_presigned_s3_screenshot_is_displayed(driver: WebDriver, s3_html: Path) -> None:
    _open(driver, s3_html)
    failed = driver.find_element(By.CSS_SELECTOR, 'li.test[data-outcome="failed"]')
    shot = failed.find_element(By.CSS_SELECTOR, 'img[data-label="screenshot"]')
    assert "X-Amz-Signature=" in shot.get_attribute("src") and "X-Amz-Expires=900" in shot.get_attribute("src")
    assert _image_shown(driver, shot)


def test_untrusted_names_and_messages_stay_text(driver: WebDriver, tmp_path: Path) -> None:
    evil = '<img src=x onerror="document.title=\'pwned\'"><script>document.title="pwned"</script>'
    report = tmp_path / "evil.xml"
    from xml.sax.saxutils import quoteattr

    report.write_text(
        f'<testsuite name="x"><testcase classname="t.test_x" name={quoteattr(evil)} time="1">'
        f'<properties><property name="artifact:failure-screenshot.png" value="javascript:alert(1)"/>'
        f'<property name="run_offset_s" value="0"/><property name="wall_s" value="1"/></properties>'
        f"<failure message={quoteattr(evil)}>{evil.replace('&', '&amp;').replace('<', '&lt;')}</failure></testcase></testsuite>"
    )
    assert main(["html", str(report), "-o", str(tmp_path / "evil.html")]) == 0
    _open(driver, tmp_path / "evil.html")
    assert driver.title != "pwned"
    row = driver.find_element(By.CSS_SELECTOR, "li.test")
    assert "<script>" in row.find_element(By.CSS_SELECTOR, ".name").text
    assert not driver.find_elements(By.CSS_SELECTOR, "li.test img")
    assert "screenshot not available: file not found: javascript:alert(1)" in row.text


# -- issue 17 item 7: files with counts, sorting, zoom, environment, formatted facts, history ----------------

_SUITE_PROPS = (
    '<properties><property name="run_id" value="r-hist"/><property name="run_mode" value="lambda"/>'
    '<property name="lambda_function" value="ui-tests"/><property name="aws_region" value="eu-west-1"/>'
    '<property name="python_version" value="3.11.2"/><property name="git_commit" value="576b421637af"/></properties>'
)


def _junit(path: Path, second_fails: bool, second_time: float) -> Path:
    failure = '<failure message="assert 1 == 2">boom</failure>' if second_fails else ""
    path.write_text(
        f'<testsuites><testsuite name="pytest" tests="3">{_SUITE_PROPS}'
        '<testcase classname="t.test_a" name="test_one" time="1.564"><properties>'
        '<property name="nodeid" value="t/test_a.py::test_one"/><property name="lambda_cold" value="False"/>'
        '<property name="lambda_billed_ms" value="1564.0"/><property name="lambda_cost_usd" value="5.233e-05"/>'
        '<property name="run_offset_s" value="0"/><property name="wall_s" value="1.7"/></properties></testcase>'
        f'<testcase classname="t.test_a" name="test_two" time="{second_time}"><properties>'
        '<property name="nodeid" value="t/test_a.py::test_two"/></properties>'
        f"{failure}</testcase>"
        '<testcase classname="t.test_b" name="test_three" time="0.5"><properties>'
        '<property name="nodeid" value="t/test_b.py::test_three"/></properties></testcase>'
        "</testsuite></testsuites>"
    )
    return path


@pytest.fixture(scope="module")
def history_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("html-history")
    old1 = _junit(work / "old1.xml", second_fails=False, second_time=1.0)
    old2 = _junit(work / "old2.xml", second_fails=True, second_time=1.1)
    new = _junit(work / "new.xml", second_fails=True, second_time=6.2)
    assert main(["html", str(new), "-o", str(work / "history.html"), "--history", str(old1), str(old2)]) == 0
    return work / "history.html"


def _row_names(driver: WebDriver) -> list[str]:
    return [r.get_attribute("data-name") for r in _visible_rows(driver)]


def test_tests_are_grouped_by_file_with_counts(driver: WebDriver, local_html: Path) -> None:
    _open(driver, local_html)
    groups = driver.find_elements(By.CSS_SELECTOR, "section.file")
    names = [g.get_attribute("data-name") for g in groups]
    assert names == sorted(names) and len(names) >= 2
    for group in groups:
        rows = group.find_elements(By.CSS_SELECTOR, "li.test")
        assert all(r.get_attribute("data-name").startswith(group.get_attribute("data-name") + "::") for r in rows)
        count = group.find_element(By.CSS_SELECTOR, ".fcount").text
        assert count.startswith(f"{len(rows)} test")
    demo = next(g for g in groups if g.find_elements(By.CSS_SELECTOR, 'li.test[data-outcome="failed"]'))
    assert "1 failed" in demo.find_element(By.CSS_SELECTOR, ".fcount").text
    # The per-file chart has one bar per file.
    assert len(driver.find_elements(By.CSS_SELECTOR, "svg.filechart rect.fbar")) == len(groups)
    # A filter hides the files it leaves empty.
    driver.find_element(By.CSS_SELECTOR, 'button[data-filter="failed"]').click()
    assert [g.is_displayed() for g in groups].count(True) == 1


def test_sort_by_duration_name_and_outcome(driver: WebDriver, local_html: Path) -> None:
    _open(driver, local_html)
    sort = driver.find_element(By.ID, "sort")
    sort.find_element(By.CSS_SELECTOR, 'option[value="time"]').click()
    for group in driver.find_elements(By.CSS_SELECTOR, "section.file"):
        times = [float(r.get_attribute("data-time")) for r in group.find_elements(By.CSS_SELECTOR, "li.test")]
        assert times == sorted(times, reverse=True) and len(set(times)) > 1 or len(times) < 2
    totals = [float(g.get_attribute("data-time")) for g in driver.find_elements(By.CSS_SELECTOR, "section.file")]
    assert totals == sorted(totals, reverse=True)
    sort.find_element(By.CSS_SELECTOR, 'option[value="name"]').click()
    for group in driver.find_elements(By.CSS_SELECTOR, "section.file"):
        names = [r.get_attribute("data-name") for r in group.find_elements(By.CSS_SELECTOR, "li.test")]
        assert names == sorted(names)
    sort.find_element(By.CSS_SELECTOR, 'option[value="rank"]').click()
    first = driver.find_element(By.CSS_SELECTOR, "section.file")
    assert first.find_element(By.CSS_SELECTOR, "li.test").get_attribute("data-outcome") == "failed"


def test_screenshot_zooms_to_full_size_with_a_link_to_the_file(driver: WebDriver, local_html: Path) -> None:
    _open(driver, local_html)
    zoom = driver.find_element(By.ID, "zoom")
    assert not zoom.is_displayed()
    failed = driver.find_element(By.CSS_SELECTOR, 'li.test[data-outcome="failed"]')
    shot = failed.find_element(By.CSS_SELECTOR, 'img[data-label="screenshot"]')
    driver.execute_script("arguments[0].scrollIntoView()", shot)
    shown_width = shot.size["width"]
    shot.click()
    assert zoom.is_displayed()
    big = driver.find_element(By.ID, "zoom-img")
    natural = driver.execute_script("return arguments[0].naturalWidth", big)
    assert natural > shown_width and big.size["width"] == natural  # the full image, not the 640 px thumbnail
    full = driver.find_element(By.ID, "zoom-full").get_attribute("href")
    assert full.startswith("file://") and full.endswith("/failure-screenshot.png")
    caption_link = failed.find_element(By.CSS_SELECTOR, "figcaption a.full").get_attribute("href")
    assert caption_link == full
    driver.find_element(By.TAG_NAME, "body").send_keys("\ue00c")  # Escape closes it
    assert not zoom.is_displayed()


def test_environment_section_and_labelled_timeline(driver: WebDriver, local_html: Path) -> None:
    _open(driver, local_html)
    env = driver.find_element(By.CSS_SELECTOR, "#environment-section dl.env")
    labels = [dt.text for dt in env.find_elements(By.TAG_NAME, "dt")]
    assert {"run id", "mode", "Python", "pytest", "pytest-lambda-ui", "Selenium"} <= set(labels)
    assert sys.version.split()[0] in env.text
    labels_in_bars = [t.text for t in driver.find_elements(By.CSS_SELECTOR, "svg.timeline text.label")]
    assert any(t.startswith("test_") for t in labels_in_bars)


def test_lambda_facts_are_formatted(driver: WebDriver, history_html: Path) -> None:
    _open(driver, history_html)
    row = driver.find_element(By.CSS_SELECTOR, 'li.test[data-name="t/test_a.py::test_one"]')
    row.find_element(By.TAG_NAME, "summary").click()
    facts = row.find_element(By.CSS_SELECTOR, ".facts-line").text
    assert "warm start" in facts and "billed 1,564 ms" in facts and "cost $0.000052" in facts
    assert "False" not in facts and "e-05" not in facts
    env = driver.find_element(By.CSS_SELECTOR, "#environment-section").text
    assert "eu-west-1" in env and "576b421637af" in env and "ui-tests" in env


def test_history_panel_shows_pass_rates_and_marks_flaky_tests(driver: WebDriver, history_html: Path) -> None:
    _open(driver, history_html)
    rows = driver.find_elements(By.CSS_SELECTOR, "#history-section table.history tbody tr")
    assert len(rows) == 3
    flaky = rows[0]  # flaky tests first
    assert flaky.get_attribute("data-flaky") == "1"
    assert "t/test_a.py::test_two" in flaky.text and "flaky" in flaky.find_element(By.CSS_SELECTOR, ".tag").text
    assert flaky.find_element(By.CSS_SELECTOR, ".rate").text == "33% (1 of 3)"
    assert "1.00 s → 1.10 s → 6.20 s" in flaky.text and "(slower)" in flaky.text
    steady = [r for r in rows if "test_one" in r.text][0]
    assert steady.get_attribute("data-flaky") == "0" and steady.find_element(By.CSS_SELECTOR, ".rate").text == "100% (3 of 3)"

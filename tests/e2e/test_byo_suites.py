"""Suites written without this plugin's fixtures run unchanged under ``pytest --lambda``.

Each suite of ``examples/byo/`` runs twice with ``BYO_FAIL=1`` and the same arguments:
plain pytest, then ``pytest --lambda`` on the local stand-ins. Both give the same
outcomes, and the test that fails on purpose links its screenshot, page source and
console log in both JUnit reports, captured from the WebDriver the suite built itself.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from lambda_ui.local_lambda import (
    LocalLambda,
    Options,
    load_function_config,
    with_overrides,
)
from stand_ins.services import (
    AWS_TEST_ENV,
    EXPECTED_CREDENTIALS,
    LoopbackS3,
    scoped_environ,
)
from tests.conftest import REPO
from tests.e2e.test_lambda_end_to_end import Stack, _cases, _outcome, _props, _stable

pytestmark = pytest.mark.e2e

#: The captures of a failing test that holds one WebDriver.
CAPTURES = ("failure-screenshot.png", "failure-page.html", "failure-console.log")


@dataclass(frozen=True)
class Suite:
    path: str
    args: tuple[str, ...]  # typed the same in both runs
    failing: str  # the test BYO_FAIL=1 fails
    tests: int
    console: str = ""  # an info line its failure's console log holds: the suite asks Chrome for every level


SUITES = [
    pytest.param(
        Suite("examples/byo/selenium_fixture", ("--driver", "Chrome", "--base-url", "http://127.0.0.1:8765"), "test_product_page_names_the_jacket", 4),
        id="selenium_fixture",
        marks=[pytest.mark.skipif(importlib.util.find_spec("pytest_selenium") is None, reason="needs pytest-selenium"),
               pytest.mark.third_party_plugins],
    ),
    # Not the default port: the option must reach the function to be seen there.
    pytest.param(
        Suite("examples/byo/own_driver", ("--app-port", "8776"), "test_diagnostics_reports_the_payment_outage", 4, "Diagnostics round 1: 3 services checked"),
        id="own_driver",
    ),
    pytest.param(Suite("examples/byo/page_objects", ("-p", "examples.byo.page_objects.chrome_plugin"), "test_tent_price", 4), id="page_objects"),
    pytest.param(Suite("examples/byo/unittest_style", (), "test_valid_form_welcomes_the_new_member", 3), id="unittest_style"),
]


@pytest.fixture(scope="module")
def byo_stack(loopback_s3: LoopbackS3) -> Iterator[Stack]:
    bucket = "byo-artifacts"
    # The function has its own environment: BYO_FAIL reaches it as a function variable.
    config = with_overrides(load_function_config(os.path.join(REPO, "template.yaml")), timeout=60, concurrency=3, env={"BYO_FAIL": "1"})
    with scoped_environ(**AWS_TEST_ENV, AWS_ENDPOINT_URL_S3=loopback_s3.endpoint, BYO_FAIL="1"):
        boto3.client("s3", endpoint_url=loopback_s3.endpoint).create_bucket(Bucket=bucket)
        with LocalLambda(config, Options(port=0, prestart=2, expect_credentials=EXPECTED_CREDENTIALS)) as lam:
            assert lam.isolation is not None
            if not lam.isolation.private_network:
                pytest.skip(f"the suites serve their app on fixed ports; environments need a network of their own ({lam.isolation.reason})")
            yield Stack(loopback_s3, bucket, lam)


def _failure_captures(case: ET.Element, key: tuple[str, str], output: str) -> dict[str, str]:
    props = _props(case)
    missing = [name for name in CAPTURES if f"artifact:{name}" not in props]
    assert not missing, f"{key}: no {', '.join('artifact:' + m for m in missing)}; properties: {sorted(props)}\n{output[-3000:]}"
    system_out = case.findtext("system-out") or ""
    for name in CAPTURES:
        assert f"[[ATTACHMENT|{props['artifact:' + name]}]]" in system_out, f"{key}: {name} is not attached in system-out"
    return {name: props[f"artifact:{name}"] for name in CAPTURES}


@pytest.mark.parametrize("suite", SUITES)
def test_suite_matches_a_local_run(byo_stack: Stack, tmp_path: Path, suite: Suite) -> None:
    common = (suite.path, "-p", "no:cacheprovider", *suite.args)
    local = byo_stack.pytest(*common, f"--junitxml={tmp_path}/local.xml", f"--artifacts={tmp_path}/a", lambda_mode=False)
    assert local.returncode == 1, local.stdout[-3000:]
    remote = byo_stack.pytest(*common, f"--junitxml={tmp_path}/lambda.xml", "--lambda-concurrency=3")
    assert remote.returncode == 1, remote.stdout[-3000:]
    # The same outcomes with a whole pytest session per invocation (--lambda-session=per-test).
    per_test = byo_stack.pytest(*common, f"--junitxml={tmp_path}/per-test.xml", "--lambda-concurrency=3", "--lambda-session=per-test")
    assert per_test.returncode == 1, per_test.stdout[-3000:]

    local_cases, remote_cases = _cases(tmp_path / "local.xml"), _cases(tmp_path / "lambda.xml")
    expected = {key: ("failure" if key[1] == suite.failing else "passed") for key in local_cases}
    assert len(expected) == suite.tests and "failure" in expected.values()
    assert {key: _outcome(case)[0] for key, case in local_cases.items()} == expected, local.stdout[-3000:]
    assert {key: _outcome(case)[0] for key, case in remote_cases.items()} == expected, remote.stdout[-3000:]
    assert {key: _outcome(case)[0] for key, case in _cases(tmp_path / "per-test.xml").items()} == expected, per_test.stdout[-3000:]
    for key, case in local_cases.items():
        assert _stable(_outcome(remote_cases[key])[1]) == _stable(_outcome(case)[1]), key
    # User properties travel back too: --app-port's value reached the function's conftest.
    for key, case in local_cases.items():
        if "app_url" in _props(case):
            assert _props(remote_cases[key])["app_url"] == _props(case)["app_url"] == "http://127.0.0.1:8776"

    key = next(k for k, v in expected.items() if v == "failure")
    local_files = _failure_captures(local_cases[key], key, local.stdout)
    assert (Path(REPO) / local_files["failure-screenshot.png"]).read_bytes().startswith(b"\x89PNG")
    assert suite.console in (Path(REPO) / local_files["failure-console.log"]).read_text()
    remote_files = _failure_captures(remote_cases[key], key, remote.stdout)
    assert all(url.startswith(f"s3://{byo_stack.bucket}/runs/") for url in remote_files.values()), remote_files
    s3 = boto3.client("s3", endpoint_url=byo_stack.s3.endpoint)

    def fetch(url: str) -> bytes:
        bucket, _, object_key = url[5:].partition("/")
        return s3.get_object(Bucket=bucket, Key=object_key)["Body"].read()

    assert fetch(remote_files["failure-screenshot.png"]).startswith(b"\x89PNG")
    assert suite.console in fetch(remote_files["failure-console.log"]).decode()

    # And a person sees the screenshot in the HTML report of either run: embedded from the
    # local file, or through a presigned link from S3.
    for xml in ("local.xml", "lambda.xml"):
        page = tmp_path / f"{xml}.html"
        rendered = subprocess.run(
            [sys.executable, "-m", "lambda_ui.cli.report", "html", str(tmp_path / xml), "-o", str(page)],
            cwd=REPO, env=byo_stack.env(), capture_output=True, text=True, timeout=120,
        )
        assert rendered.returncode == 0, rendered.stderr[-2000:]
        html = page.read_text()
        images = re.findall(r'<img[^>]+src="(data:image/png;base64,|[^"]*/failure-screenshot\.png\?X-Amz-)', html)
        assert len(images) == 1, f"{xml}: the failing test's screenshot is not shown once: {images}"
        for name in ("failure-page.html", "failure-console.log"):
            assert re.search(rf'<a href="[^"]*/{re.escape(name)}[?"]', html), f"{xml}: no link to {name}"

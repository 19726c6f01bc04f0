"""The browser smoke check: through the local Lambda and loopback S3, in-process, and as the build's CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest

from lambda_ui.function.smoke import SAMPLES, lambda_environ, run_smoke
from lambda_ui.local_lambda import LocalLambda, Options, load_function_config, with_overrides
from lambda_ui.runner.aws.lambda_smoke import invoke_smoke
from lambda_ui.runner.browsers import BrowserManager
from lambda_ui.runner.chrome import SINGLE_PROCESS_FLAG, ChromeLauncher, is_headless_shell, locate_chrome
from stand_ins.services import AWS_TEST_ENV, EXPECTED_CREDENTIALS, LoopbackS3, scoped_environ
from tests.conftest import REPO

pytestmark = pytest.mark.e2e

#: A Chrome that exits at once unless it is given --single-process, as Chrome on a Lambda
#: whose sandbox refuses the zygote or the GPU process does.
NEEDS_SINGLE_PROCESS = """#!/bin/sh
case " $* " in *" --single-process "*) exec {chrome} "$@" ;; esac
echo "refusing to start without --single-process" >&2
exit 1
"""


def _lambda_client(lam: LocalLambda) -> Any:
    return boto3.client("lambda", endpoint_url=lam.endpoint)


@contextmanager
def _stand_in(loopback_s3: LoopbackS3, env: dict[str, str] | None = None) -> Iterator[LocalLambda]:
    """The local Lambda with the project's template; boto3 here points at it and the loopback S3."""
    config = with_overrides(load_function_config(os.path.join(REPO, "template.yaml")), timeout=60, concurrency=1, env=env)
    with scoped_environ(**AWS_TEST_ENV, AWS_ENDPOINT_URL_S3=loopback_s3.endpoint):
        with LocalLambda(config, Options(port=0, prestart=1, expect_credentials=EXPECTED_CREDENTIALS)) as lam:
            yield lam


def test_smoke_through_the_local_lambda_renders_all_three_scripts(loopback_s3: LoopbackS3) -> None:
    bucket, key = "smoke-artifacts", "runs/_smoke/e2e/smoke.png"
    with _stand_in(loopback_s3) as lam:
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=bucket)
        answer = invoke_smoke(_lambda_client(lam), "UiTestFunction", bucket, key)
        again = invoke_smoke(_lambda_client(lam), "UiTestFunction")
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert answer.ok, answer.problems
    response = answer.response
    assert response is not None
    assert response["rendered"] == {"latin": True, "cjk": True, "emoji": True}
    assert response["screenshot"] == {"bucket": bucket, "key": key}
    assert body.startswith(b"\x89PNG") and len(body) == response["screenshot_bytes"]
    # The stand-in sets Lambda's variables, so Chrome got the Lambda set, and started without the fallback.
    assert {"--no-zygote", "--in-process-gpu", "--no-sandbox"} <= set(response["flags"]) and SINGLE_PROCESS_FLAG not in response["flags"]
    assert not response["single_process_retry"] and not response["browser_reused"]
    assert response["chrome_version"].count(".") == 3 and response["chromedriver_version"] == response["chrome_version"]
    assert response["timings"]["start_ms"] > 0 and response["timings"]["load_ms"] > 0 and response["timings"]["screenshot_ms"] > 0
    assert response["facts"]["chrome_single_process_retry"] is False
    # A second smoke event reuses the warm browser and, without a target, uploads nothing.
    assert again.ok and again.response is not None
    assert again.response["browser_reused"] and again.response["screenshot"] is None


@pytest.fixture
def picky_chrome() -> Iterator[Path]:
    """The wrapper above, where the stand-in's sandbox user can run it: not in /tmp (private
    in each environment) nor under pytest's tmp_path (readable by root only)."""
    folder = Path(tempfile.mkdtemp(prefix="lambda-ui-smoke-", dir="/var/tmp"))
    folder.chmod(0o755)
    chrome = locate_chrome(None, None, None, None).binary
    # Named as what it wraps: the runner knows a headless shell by its name (runner/chrome.py).
    picky = folder / ("chrome-headless-shell" if is_headless_shell(chrome) else "chrome")
    picky.write_text(NEEDS_SINGLE_PROCESS.format(chrome=os.path.realpath(chrome)))
    picky.chmod(0o755)
    yield picky
    shutil.rmtree(folder, ignore_errors=True)


def test_a_chrome_that_needs_single_process_gets_one_retry(loopback_s3: LoopbackS3, picky_chrome: Path) -> None:
    with _stand_in(loopback_s3, env={"CHROME_BINARY": str(picky_chrome)}) as lam:
        first = invoke_smoke(_lambda_client(lam), "UiTestFunction")
        second = invoke_smoke(_lambda_client(lam), "UiTestFunction")
    assert first.ok, first.problems
    assert first.response is not None and first.response["single_process_retry"] is True
    assert SINGLE_PROCESS_FLAG in first.response["flags"] and first.response["facts"]["chrome_single_process_retry"] is True
    assert second.response is not None and second.response["browser_reused"] and second.response["facts"]["chrome_single_process_retry"] is True


FONTS_CONF = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><dir>{fonts}</dir><cachedir>{cache}</cachedir></fontconfig>
"""


@pytest.fixture
def latin_fonts_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fontconfig that knows one Latin font (DejaVu Sans): no CJK, no emoji, as in a slim image."""
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    candidates = [Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"), Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf")]
    latin = next((path for path in candidates if path.exists()), None)
    assert latin is not None, f"no Latin-only font here (looked for {', '.join(map(str, candidates))}): install fonts-dejavu-core"
    (fonts / latin.name).symlink_to(latin)
    conf = tmp_path / "fonts.conf"
    conf.write_text(FONTS_CONF.format(fonts=fonts, cache=tmp_path / "cache"))
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))  # Chrome inherits it through chromedriver


def _smoke_here(samples: dict[str, str] = SAMPLES) -> Any:
    launcher = ChromeLauncher(lambda: locate_chrome(None, None, None, None), (800, 600), environ=lambda_environ(os.environ))
    browsers = BrowserManager(launcher.start, (800, 600))
    try:
        return run_smoke(browsers, launcher, samples=samples)[0]
    finally:
        browsers.shutdown()


def test_the_rendering_check_reports_missing_fonts(latin_fonts_only: None) -> None:
    answer = _smoke_here()
    assert answer["rendered"] == {"latin": True, "cjk": False, "emoji": False}, answer
    assert not answer["ok"] and answer["screenshot_bytes"] > 0
    assert [line.split(" text ")[0] for line in answer["problems"]] == ["cjk", "emoji"]


def test_a_code_point_no_font_has_is_not_rendered() -> None:
    answer = _smoke_here({"latin": "Hamburg", "private": "\U000f0000\U000f0001", "emoji": "\U0001f680"})
    assert answer["rendered"] == {"latin": True, "private": False, "emoji": True}, answer


def _cli(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lambda_ui.function.smoke", "--launch-only"], env=env, capture_output=True, text=True, timeout=180)


def test_the_build_check_passes_here() -> None:
    result = _cli(dict(os.environ))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "✓ ldd: every shared library found" in result.stdout
    assert "--no-zygote" in result.stdout and "rendered: latin ✓, cjk ✓, emoji ✓" in result.stdout


def test_the_build_check_fails_on_a_missing_library_and_a_chrome_that_cannot_start(tmp_path: Path) -> None:
    # /bin/true with one needed library renamed: the loader cannot find libc.so.7.
    broken = tmp_path / "chromedriver"
    data = Path("/bin/true").read_bytes()
    assert data.count(b"libc.so.6\0") >= 1
    broken.write_bytes(data.replace(b"libc.so.6\0", b"libc.so.7\0"))
    broken.chmod(0o755)
    dead = tmp_path / "chrome"
    dead.write_text("#!/bin/sh\nexit 1\n")
    dead.chmod(0o755)
    result = _cli({**os.environ, "CHROMEDRIVER": str(broken), "CHROME_BINARY": str(dead)})
    assert result.returncode == 1
    assert f"✗ ldd {broken}: not found: libc.so.7" in result.stdout
    assert "✗ Chrome did not start" in result.stdout

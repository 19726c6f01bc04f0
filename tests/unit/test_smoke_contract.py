"""The smoke event on the wire: validation, the client's reading of every answer, the ldd parse."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from lambda_ui.contract import CONTRACT_VERSION, InvalidEvent, validate_event
from lambda_ui.function import smoke
from lambda_ui.runner.aws.lambda_smoke import invoke_smoke, smoke_event


def test_a_bare_smoke_event_uploads_nothing() -> None:
    assert validate_event({"version": 1, "kind": "smoke"}) == {"version": CONTRACT_VERSION, "kind": "smoke", "screenshot": None}


def test_a_smoke_event_with_a_screenshot_round_trips() -> None:
    event = smoke_event("ui-artifacts-1", "runs/_smoke/2026-11-30/smoke.png")
    checked = validate_event(json.loads(json.dumps(event)))
    assert checked == {"version": 1, "kind": "smoke", "screenshot": {"bucket": "ui-artifacts-1", "key": "runs/_smoke/2026-11-30/smoke.png"}}
    assert validate_event(json.loads(json.dumps(checked))) == checked


@pytest.mark.parametrize(
    ("screenshot", "message"),
    [
        ("s3://b/k.png", "event.screenshot must be an object"),
        ({"bucket": "bucket-1"}, "event.screenshot has no 'key'"),
        ({"bucket": "bucket-1", "key": 7}, "event.screenshot.key must be str"),
        ({"bucket": "Bucket_1", "key": "runs/a.png"}, "is not an S3 bucket name"),
        ({"bucket": "b..c", "key": "runs/a.png"}, "is not an S3 bucket name"),
        ({"bucket": "bucket-1", "key": "runs/../bundles/x.png"}, "must be a relative key"),
        ({"bucket": "bucket-1", "key": "/runs/a.png"}, "must be a relative key"),
        ({"bucket": "bucket-1", "key": "runs//a.png"}, "must be a relative key"),
        ({"bucket": "bucket-1", "key": "runs/./a.png"}, "must be a relative key"),
        ({"bucket": "bucket-1", "key": "runs/a b.png"}, "must be a relative key"),
        ({"bucket": "bucket-1", "key": "runs/a.png\n"}, "must be a relative key"),
        ({"bucket": "bucket-1", "key": "runs/a.html"}, "ending in .png"),
        ({"bucket": "bucket-1", "key": "runs/" + "a/" * 300 + "x.png"}, "at most 512 characters"),
        ({"bucket": "bucket-1", "key": ""}, "must be a relative key"),
    ],
)
def test_hostile_screenshot_targets_are_refused(screenshot: Any, message: str) -> None:
    with pytest.raises(InvalidEvent, match=message.replace(".", r"\.")):
        validate_event({"version": 1, "kind": "smoke", "screenshot": screenshot})


def test_an_unknown_kind_names_all_three() -> None:
    with pytest.raises(InvalidEvent, match="'run', 'info' or 'smoke', got 'smok'"):
        validate_event({"version": 1, "kind": "smok"})


def test_the_smoke_event_keeps_the_version_rule() -> None:
    with pytest.raises(InvalidEvent) as info:
        validate_event({"version": 2, "kind": "smoke"})
    assert info.value.error_type == "UnsupportedVersion"


def test_bucket_and_key_go_together() -> None:
    with pytest.raises(ValueError, match="both"):
        smoke_event("bucket-1", None)
    assert smoke_event() == {"version": 1, "kind": "smoke"}


# -- the client reads every answer -------------------------------------------------------


class _FakeLambda:
    """Answers Invoke with a fixed payload; records the events."""

    def __init__(self, payload: Any, function_error: str | None = None) -> None:
        self.payload = payload
        self.function_error = function_error
        self.events: list[dict[str, Any]] = []

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        self.events.append(json.loads(kwargs["Payload"]))
        answer: dict[str, Any] = {"Payload": io.BytesIO(json.dumps(self.payload).encode()), "ResponseMetadata": {"RequestId": "r-1"}}
        if self.function_error:
            answer["FunctionError"] = self.function_error
        return answer


def _answer(**changes: Any) -> dict[str, Any]:
    answer = {
        "version": 1, "kind": "smoke", "ok": True, "problems": [], "browser_reused": False, "single_process_retry": False,
        "flags": ["--headless=new"], "chrome_version": "156.0.8078.114", "chromedriver_version": "156.0.8078.114",
        "timings": {"start_ms": 900.0, "load_ms": 80.0, "screenshot_ms": 50.0, "render_check_ms": 20.0, "upload_ms": 10.0},
        "rendered": {"latin": True, "cjk": True, "emoji": True}, "screenshot": {"bucket": "b-1", "key": "runs/s.png"},
        "screenshot_bytes": 1234, "facts": {},
    }
    answer.update(changes)
    return answer


def test_a_passing_smoke_answer() -> None:
    client = _FakeLambda(_answer())
    answer = invoke_smoke(client, "fn", "b-1", "runs/s.png")
    assert answer.ok and answer.problems == [] and answer.response is not None and answer.response["rendered"]["cjk"]
    assert client.events == [{"version": 1, "kind": "smoke", "screenshot": {"bucket": "b-1", "key": "runs/s.png"}}]


def test_a_failing_smoke_answer_keeps_the_functions_problems() -> None:
    problems = ["cjk text did not render (no font for '漢'); install its fonts in the image"]
    answer = invoke_smoke(_FakeLambda(_answer(ok=False, problems=problems, rendered={"latin": True, "cjk": False, "emoji": True})), "fn")
    assert not answer.ok and answer.problems == problems


def test_ok_with_problems_is_not_ok() -> None:
    assert not invoke_smoke(_FakeLambda(_answer(ok=True, problems=["x"])), "fn").ok
    assert invoke_smoke(_FakeLambda(_answer(ok="yes")), "fn").problems == ["the smoke answer is not ok and names no problem"]


def test_an_image_without_the_smoke_event_says_to_redeploy() -> None:
    old = {"version": 1, "kind": "error", "error_type": "InvalidEvent", "message": "event.kind must be 'run' or 'info', got 'smoke'", "retryable": False}
    answer = invoke_smoke(_FakeLambda(old), "fn")
    assert not answer.ok and "deploy an image built from this release" in answer.problems[0]


def test_a_crashed_function_is_a_problem_not_an_exception() -> None:
    crash = {"errorType": "Runtime.ExitError", "errorMessage": "RequestId: r-1 Error: Runtime exited with error: signal: killed"}
    answer = invoke_smoke(_FakeLambda(crash, function_error="Unhandled"), "fn")
    assert not answer.ok and answer.response is None and answer.problems[0].startswith("the smoke invocation failed: Runtime.ExitError")


def test_an_answer_of_another_kind_is_a_problem() -> None:
    answer = invoke_smoke(_FakeLambda({"version": 1, "kind": "info"}), "fn")
    assert not answer.ok and "something else than a smoke answer" in answer.problems[0]


# -- ldd ---------------------------------------------------------------------------------

LDD_OUTPUT = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibgtk-3.so.0 => not found
\tlibnss3.so => /lib/x86_64-linux-gnu/libnss3.so (0x00007f)
\tlibgbm.so.1 => not found
"""


def test_ldd_lists_each_library_not_found(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    binary = tmp_path / "chrome"
    binary.write_bytes(b"\x7fELF" + b"\0" * 60)
    monkeypatch.setattr(smoke.subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a[0], 1, LDD_OUTPUT, ""))
    assert smoke.ldd_missing(str(binary)) == ["libgtk-3.so.0", "libgbm.so.1"]


def test_ldd_on_a_real_binary_and_on_a_script(tmp_path: Path) -> None:
    assert smoke.ldd_missing("/bin/ls") == []
    script = tmp_path / "chromium"
    script.write_text("#!/bin/sh\nexec /usr/lib/chromium/chromium \"$@\"\n")
    assert smoke.ldd_missing(str(script)) is None


def test_the_build_check_uses_the_lambda_flags() -> None:
    environ = smoke.lambda_environ({"PATH": "/usr/bin"})
    from lambda_ui.runner.chrome import chrome_flags

    assert "--no-zygote" in chrome_flags("/tmp/p", (800, 600), environ=environ)
    assert smoke.lambda_environ({"AWS_LAMBDA_FUNCTION_NAME": "mine", "LAMBDA_TASK_ROOT": "/x"})["AWS_LAMBDA_FUNCTION_NAME"] == "mine"

"""Issue 17, items 2, 3, 5, 6: failures name their files, honest run facts, every attempt's
files kept, and a dry run with the plugin's own history (cache plugin off)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from stand_ins.fake_invoke_api import FakeInvokeApi


def _run(pytester: pytest.Pytester, bucket: str, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        "--lambda", "--lambda-function=ui-tests", f"--artifacts=s3://{bucket}/runs", "--junitxml=r.xml", "-p", "no:cacheprovider", *args
    )


def _props(pytester: pytest.Pytester, name: str) -> list[tuple[str, str]]:
    case = next(c for c in ET.parse(pytester.path / "r.xml").getroot().iter("testcase") if c.get("name") == name)
    return [(p.get("name", ""), p.get("value", "")) for p in case.findall("./properties/property")]


def test_a_local_failure_names_its_files_in_its_section_and_summary(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_local="def test_broken(artifacts):\n    artifacts.save('failure-screenshot.png', b'png')\n    assert 0\n")
    result = pytester.runpytest_subprocess("--run-id=r1", "-rf")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*- Captured artifacts -*",
        "failure-screenshot.png: artifacts/r1/test_local.py/test_broken/failure-screenshot.png",
        "*short test summary info*",
        "FAILED test_local.py::test_broken - assert 0",
        "SCREENSHOT test_local.py::test_broken - artifacts/r1/test_local.py/test_broken/failure-screenshot.png",
    ])


def test_a_rerun_keeps_both_attempts_files_and_links_them(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    pytester.makepyfile(test_shots="def test_shot_fail(): pass\n")
    result = _run(pytester, bucket, "--lambda-reruns=1", "--run-id=r2", "--artifacts-presign=600")
    result.assert_outcomes(failed=1)
    first = f"s3://{bucket}/runs/r2/test_shots.py/test_shot_fail/failure-screenshot.png"
    second = f"s3://{bucket}/runs/r2/test_shots.py/test_shot_fail/attempt-2/failure-screenshot.png"
    props = _props(pytester, "test_shot_fail")
    assert ("artifact:failure-screenshot.png", second) in props, props
    assert ("attempt_artifact_1:failure-screenshot.png", first) in props, props
    result.stdout.fnmatch_lines([
        "*- Captured artifacts -*",
        f"failure-screenshot.png: {second}",
        f"    http*://*/{bucket}/runs/r2/test_shots.py/test_shot_fail/attempt-2/failure-screenshot.png?*Expires=*",
        f"SCREENSHOT test_shots.py::test_shot_fail - {second}",
    ])
    # The report reader puts the first attempt's file under that attempt.
    from lambda_ui.runner.reports.model import from_root

    case = from_root(ET.parse(pytester.path / "r.xml").getroot(), ["r.xml"]).cases[0]
    assert [a.location for a in case.earlier[0].artifacts] == [first]


def test_run_facts_say_configured_and_peak_concurrency_and_flag_memory(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    pytester.makepyfile(test_mem="def test_bigmem(): pass\ndef test_ok(): pass\n")
    result = _run(pytester, bucket, "--lambda-concurrency=3")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([
        "*2 invocation(s) of ui-tests in * s, concurrency 3 configured, ? at peak, 0 throttled*",
        "memory: 1 test(s) used all of the function's 2048 MB (out-of-memory risk; raise MemorySize): test_mem.py::test_bigmem",
    ])
    result.stdout.no_fnmatch_line("*window*")
    assert ("lambda_memory_at_limit", "true") in _props(pytester, "test_bigmem")
    assert "lambda_memory_at_limit" not in dict(_props(pytester, "test_ok"))


def test_the_dry_run_lists_all_or_says_how_many_more_and_reads_the_plugins_history(
    pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str
) -> None:
    pytester.makepyfile(test_many="\n".join(f"def test_t{i:02}(): pass" for i in range(12)))
    _run(pytester, bucket).assert_outcomes(passed=12)  # with the cache plugin off
    history = json.loads((pytester.path / ".lambda-ui" / "durations.json").read_text())["durations"]
    assert len(history) == 12
    fake_lambda.state.calls.clear()
    result = _run(pytester, bucket, "--lambda-dry-run")
    assert result.ret == 0 and fake_lambda.state.calls == []
    result.stdout.fnmatch_lines([
        "lambda dry run: 12 tests (12 with history*",
        "lambda dry run: history from *durations.json (12 tests recorded*",
        "  … and 2 more (-v lists them all)",
        "lambda dry run: bundle bundles/*.zip (* files, *), sha256 *",
    ])
    verbose = _run(pytester, bucket, "--lambda-dry-run", "-v")
    assert sum(line.startswith("  test_many.py::test_t") for line in verbose.stdout.lines) == 12
    verbose.stdout.no_fnmatch_line("*more (-v lists them all)*")

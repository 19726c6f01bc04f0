"""Start-up of ``pytest --lambda``: the checks that stop a run before any test is invoked
(an image that lacks what the suite uses here, an option that cannot be forwarded), and
what start-up resolves once per run."""

from __future__ import annotations

import sys
from importlib import metadata

import pytest

from stand_ins.fake_invoke_api import FakeInvokeApi


def _run(pytester: pytest.Pytester, bucket: str, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("--lambda", "--lambda-function=ui-tests", f"--artifacts=s3://{bucket}/runs", *args)


def _without(fake: FakeInvokeApi, *names: str) -> None:
    fake.state.distributions = {k: v for k, v in fake.state.distributions.items() if k.lower() not in names}


@pytest.mark.third_party_plugins  # pytest-selenium, loaded here, is what the image lacks
def test_a_plugin_missing_in_the_image_stops_the_run_before_any_test(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    _without(fake_lambda, "pytest-selenium")
    pytester.makepyfile(test_a="def test_a(): pass\n")
    result = _run(pytester, bucket)
    assert result.ret == 4
    err = result.stderr.str()
    assert f"pytest-selenium {metadata.version('pytest-selenium')} (plugin) is missing in the image" in err
    assert "TEST_REQUIREMENTS" in err and "--lambda-image-drift=warn" in err
    assert not fake_lambda.state.calls, "nothing may be invoked"


def test_a_module_loaded_with_p_names_its_distribution(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    # tenacity is no pytest plugin and has no entry point: only -p makes it one.
    _without(fake_lambda, "tenacity")
    pytester.makepyfile(test_a="def test_a(): pass\n")
    result = _run(pytester, bucket, "-p", "tenacity")
    assert result.ret == 4 and "tenacity" in result.stderr.str() and "(plugin) is missing in the image" in result.stderr.str()
    assert not fake_lambda.state.calls


def test_another_version_is_an_error_or_with_warn_a_warning(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    fake_lambda.state.distributions = dict(fake_lambda.state.distributions, pytest="7.0.0")
    pytester.makepyfile(test_a="def test_a(): pass\n")
    stopped = _run(pytester, bucket)
    assert stopped.ret == 4 and f"pytest (core) is {pytest.__version__} here, 7.0.0 in the image" in stopped.stderr.str()
    assert not fake_lambda.state.calls
    warned = _run(pytester, bucket, "--lambda-image-drift=warn")
    warned.assert_outcomes(passed=1)
    warned.stdout.fnmatch_lines(["*image does not match*pytest (core) is * here, 7.0.0 in the image*Running anyway*"])


def test_client_only_plugins_need_not_be_in_the_image(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    _without(fake_lambda, "pytest-xdist", "pytest_xdist")
    pytester.makepyfile(test_a="def test_a(): pass\n")
    _run(pytester, bucket).assert_outcomes(passed=1)


def test_the_requirements_file_must_be_satisfied(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    pytester.makepyfile(test_a="def test_a(): pass\n")
    pytester.path.joinpath("requirements-ui.txt").write_text("# the suite's own\n--index-url https://example.invalid/simple\nrequests>=99\nfaker-nonexistent==1.0 ; python_version > '3'\n")
    result = _run(pytester, bucket)
    err = result.stderr.str()
    assert result.ret == 4 and "requests>=99 (requirements-ui.txt): the image has" in err and "faker-nonexistent (requirements-ui.txt) is missing" in err
    pytester.path.joinpath("ok.txt").write_text("requests\n")
    _run(pytester, bucket, "--lambda-requirements=ok.txt").assert_outcomes(passed=1)
    missing = _run(pytester, bucket, "--lambda-requirements=nope.txt")
    assert missing.ret == 4 and "--lambda-requirements: no such file" in missing.stderr.str()
    pytester.path.joinpath("bad.txt").write_text("requests >>= 2\n")
    bad = _run(pytester, bucket, "--lambda-requirements=bad.txt")
    assert bad.ret == 4 and "bad.txt:1: 'requests >>= 2' is not a requirement pip understands" in bad.stderr.str()


def test_a_path_outside_the_rootdir_stops_the_run_naming_the_option(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    pytester.makeconftest("def pytest_addoption(parser):\n    parser.addoption('--fixtures-dir')\n")
    pytester.makepyfile(test_a="def test_a(): pass\n")
    outside = tmp_path_factory.mktemp("shared-fixtures")
    result = _run(pytester, bucket, f"--fixtures-dir={outside}")
    assert result.ret == 4 and f"--fixtures-dir '{outside}' points outside the test bundle" in result.stderr.str()
    assert not fake_lambda.state.calls
    pdb = _run(pytester, bucket, "--pdb")
    assert pdb.ret == 4 and "--pdb cannot be used with --lambda" in pdb.stderr.str()


@pytest.mark.third_party_plugins  # pytest-selenium, loaded here, is what the image lacks
def test_dry_run_lists_what_the_image_lacks(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    _without(fake_lambda, "pytest-selenium")
    pytester.makepyfile(test_a="def test_a(): pass\n")
    result = _run(pytester, bucket, "--lambda-dry-run")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*the image would stop this run: pytest-selenium * (plugin) is missing in the image*"])


def test_credentials_are_resolved_once_per_run(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # A profile whose credentials come from a process, as SSO and AssumeRole set-ups do:
    # the start-up probe, the invocation loop and S3 share one resolution, not one each.
    calls = pytester.path / "credential-calls"
    script = pytester.path / "credentials.py"
    script.write_text(
        "import json, sys\n"
        f"open({str(calls)!r}, 'a').write('x')\n"
        "print(json.dumps({'Version': 1, 'AccessKeyId': 'testing', 'SecretAccessKey': 'testing', 'SessionToken': 'testing'}))\n"
    )
    config = pytester.path / "aws-config"
    config.write_text(f"[profile ci]\nregion = us-east-1\ncredential_process = {sys.executable} {script}\n")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(pytester.path / "no-credentials"))
    monkeypatch.setenv("AWS_PROFILE", "ci")
    pytester.makepyfile(test_a="def test_a(): pass\n")
    result = _run(pytester, bucket)
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    assert calls.read_text() == "x", f"the credential process ran {len(calls.read_text())} times"

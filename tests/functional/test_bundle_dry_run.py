"""The bundle's rules seen from ``pytest --lambda`` (issue #13): the dry run lists its files by
size and names what was left out; a real run warns once, before the upload, and ships no secret."""

from __future__ import annotations

import io
import os
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

from stand_ins.fake_invoke_api import FakeInvokeApi
from tests.conftest import REPO

CANARY = "aws_secret_access_key = CANARY-bundle-dry-run"


def _run(pytester: pytest.Pytester, bucket: str, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("--lambda", "--lambda-function=ui-tests", f"--artifacts=s3://{bucket}/runs", *args)


def _suite(pytester: pytest.Pytester, outside: Path) -> None:
    """Not a git checkout: tests, a conftest, a helper package, a venv inside the rootdir, data, and bait."""
    root = pytester.path
    files = {
        "pytest.ini": "[pytest]\nlambda_bundle_include =\n    data/*\n    reports/\n    artifacts/\n",
        "tests/conftest.py": "import sys, pathlib\nsys.path.insert(0, str(pathlib.Path(__file__).parents[1] / '.venv/lib/python3.11/site-packages'))\nimport fakepkg\n",
        "tests/test_a.py": "import helpers.pages\n\ndef test_a():\n    pass\n",
        "helpers/__init__.py": "",
        "helpers/pages.py": "PAGE = 1\n" + "# a page object would be here\n" * 10,
        ".venv/lib/python3.11/site-packages/fakepkg/__init__.py": "",
        "notes.txt": CANARY,
        ".env": CANARY,
        "data/big.json": "[" + "1," * 5000 + "1]",
    }
    files.update({f"data/small{n:02}.json": "[]" * (n + 1) for n in range(24)})
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    creds = outside / ".aws" / "credentials"
    creds.parent.mkdir(parents=True)
    creds.write_text(CANARY)
    (root / "data" / "c").symlink_to(creds)
    os.mkfifo(root / "data" / "pipe")


def test_the_dry_run_lists_the_bundle_by_size_and_what_was_left_out(
    pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str, tmp_path_factory: pytest.TempPathFactory,
) -> None:
    _suite(pytester, tmp_path_factory.mktemp("home"))
    result = _run(pytester, bucket, "--lambda-dry-run")
    assert result.ret == 0, result.stderr.str()
    result.stdout.fnmatch_lines([
        "lambda dry run: the bundle, largest files first (the files collection used):",
        "*10.0 kB  data/big.json",
        "*... and 10 more",
        "*total, 30 files (collected)",
    ])
    result.stdout.fnmatch_lines(["lambda: bundle: left out data/c: a symlink to a path outside the rootdir (never followed)"])
    result.stdout.fnmatch_lines(["lambda: bundle: left out data/pipe: a FIFO (special files are never opened)"])
    out = result.stdout.str()
    for needed in ("tests/test_a.py", "tests/conftest.py", "helpers/pages.py", "pytest.ini"):
        assert any(line.endswith(needed) for line in out.splitlines()), f"{needed} missing from the listing:\n{out}"
    for bait in ("notes.txt", ".env", "fakepkg", "CANARY"):
        assert bait not in out
    assert fake_lambda.state.calls == []


@pytest.mark.third_party_plugins  # pytest-html's --html, whose report is left out
def test_a_run_warns_once_before_the_upload_and_ships_no_secret(
    pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str, s3_client: Any, tmp_path_factory: pytest.TempPathFactory,
) -> None:
    _suite(pytester, tmp_path_factory.mktemp("home"))
    # What an earlier local run left behind, under folders the include names: only keep.txt is the suite's.
    for rel in ("reports/r.xml", "reports/r.html", "reports/keep.txt", "artifacts/run-1/test_a/failure-screenshot.png"):
        (pytester.path / rel).parent.mkdir(parents=True, exist_ok=True)
        (pytester.path / rel).write_text(CANARY if rel != "reports/keep.txt" else "kept\n")
    result = _run(pytester, bucket, "--junitxml=reports/r.xml", "--html=reports/r.html", "-p", "no:cacheprovider")  # no cache_dir ini then
    result.assert_outcomes(passed=1)
    lines = result.stdout.lines
    warned = [i for i, line in enumerate(lines) if line.startswith("lambda: bundle: left out data/c:")]
    uploaded = [i for i, line in enumerate(lines) if line.startswith("lambda: bundle ") and "uploaded to" in line]
    assert len(warned) == 1 and len(uploaded) == 1 and warned[0] < uploaded[0], "\n".join(lines)
    key = next(o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket, Prefix="bundles/")["Contents"])
    data = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        assert not any(CANARY.encode() in zf.read(name) for name in names)
    assert {"tests/test_a.py", "tests/conftest.py", "helpers/__init__.py", "helpers/pages.py", "pytest.ini", "data/big.json"} <= set(names)
    assert "reports/keep.txt" in names
    assert not {"notes.txt", ".env", "data/c", "data/pipe"} & set(names) and not any("fakepkg" in n or n.startswith("artifacts/") for n in names)


def test_data_files_the_suite_reads_while_it_is_collected_ship_outside_git(
    pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str, tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # pytest-bdd reads its .feature files when a module calls scenarios(): outside git they were
    # not in the bundle, and every test errored in the function with FileNotFoundError.
    shared = tmp_path_factory.mktemp("elsewhere") / "shared.csv"
    shared.write_text("outside the rootdir\n")
    files = {
        "conftest.py": (
            "import pathlib\nHERE = pathlib.Path(__file__).parent\nUSERS = (HERE / 'data' / 'users.csv').read_text()\n"
            "ENV = (HERE / '.env').read_text()\nVENV = (HERE / '.venv' / 'share' / 'x.txt').read_text()\n"
            "PKG = (HERE / 'env/lib/python3.11/site-packages/pkg/data.txt').read_text()\n"
            f"SHARED = open({str(shared)!r}).read()\nopen(HERE / 'written.log', 'w').close()\n"
        ),
        "tests/test_login.py": (
            "import pathlib\nFEATURE = (pathlib.Path(__file__).parent / 'features' / 'login.feature').read_text()\n\n"
            "def test_login():\n    assert 'Scenario' in FEATURE\n"
        ),
        "tests/features/login.feature": "Feature: login\n  Scenario: ok\n",
        "tests/features/unused.feature": "Feature: not read by any module\n",
        "data/users.csv": "alice\n",
        ".env": CANARY,
        ".venv/share/x.txt": "an environment's file\n",
        "env/lib/python3.11/site-packages/pkg/data.txt": "an installed package's data\n",
    }
    for rel, text in files.items():
        (pytester.path / rel).parent.mkdir(parents=True, exist_ok=True)
        (pytester.path / rel).write_text(text)
    _run(pytester, bucket).assert_outcomes(passed=1)  # writes .pytest_cache, which --lf reads next
    result = _run(pytester, bucket, "--lambda-dry-run", "--lf")
    assert result.ret == 0, result.stderr.str()
    listed = {m.group(1) for line in result.stdout.lines if (m := re.fullmatch(r"\s+[\d.]+ k?B  (\S+)", line))}
    assert listed == {"conftest.py", "tests/test_login.py", "tests/features/login.feature", "data/users.csv"}, result.stdout.str()
    result.stdout.fnmatch_lines(["lambda: bundle: left out .env: its name looks like a secret*; the collected tests need it"])
    assert "CANARY" not in result.stdout.str()


#: python-dotenv, installed apart by scripts/setup.sh (with webdriver-manager).
DOTENV = os.path.join(REPO, ".venv", "driver-manager")


def test_a_left_out_dotenv_file_is_weighed_against_the_variables_handed_over(
    pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The suite loads .env as python-dotenv users do; the bundle never ships it, --lambda-env
    # hands its variables over. The warning said the tests need the file on every run, handed or not.
    monkeypatch.setenv("PYTHONPATH", DOTENV)
    monkeypatch.setenv("SHOP_USER", "ada")  # --lambda-env NAME takes the value it has here
    pytester.makeconftest("from dotenv import load_dotenv\n\nload_dotenv()\n")
    pytester.makepyfile(test_a="def test_a(): pass\n")
    (pytester.path / ".env").write_text("SHOP_USER=ada\nSHOP_PASSWORD=dotenv-canary\n")

    def bundle_lines(*args: str) -> list[str]:
        result = _run(pytester, bucket, "-p", "no:cacheprovider", *args)
        assert result.ret == 0 and "dotenv-canary" not in result.stdout.str(), result.stdout.str()
        return [line for line in result.stdout.lines if line.startswith("lambda: bundle: left out .env")]

    (usual,) = bundle_lines()
    assert "hand the tests the variables it sets with --lambda-env NAME" in usual
    assert bundle_lines("--lambda-env", "SHOP_USER") == [
        "lambda: bundle: left out .env: its name looks like a secret; --lambda-env hands the tests SHOP_USER, "
        "not SHOP_PASSWORD: add --lambda-env NAME for each the tests need"
    ]
    assert bundle_lines("--lambda-env", "SHOP_USER", "--lambda-env", "SHOP_PASSWORD=x") == [
        "lambda: bundle: left out .env (its name is on the secret deny list); its variables reach the tests with --lambda-env: SHOP_USER, SHOP_PASSWORD"
    ]


def test_a_module_imported_from_outside_the_rootdir_is_named_before_the_run(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    # tests/ has its own ini, so it is the rootdir; its conftest puts the sibling src/ on sys.path.
    # The function's copy holds tests/ only: there the import failed with a bare ModuleNotFoundError.
    pytester.makefile(".ini", **{"tests/pytest": "[pytest]\n"})
    pytester.makepyfile(**{
        "src/shop_helpers": "def greet():\n    return 'hi'\n",
        "tests/conftest": "import pathlib, sys\nsys.path.insert(0, str(pathlib.Path(__file__).parents[1] / 'src'))\n",
        "tests/test_shop": "import json\nfrom shop_helpers import greet\n\ndef test_greet():\n    assert greet() == 'hi'\n",
    })
    for args in (("--lambda-dry-run",), ()):  # said by the dry run, and by a run before it uploads
        result = _run(pytester, bucket, "tests", *args)
        helper = pytester.path / "src" / "shop_helpers.py"
        result.stdout.fnmatch_lines([
            f"lambda: bundle: the suite imports shop_helpers ({helper}) from outside the rootdir {pytester.path / 'tests'}, *"
            f"give the run a rootdir that holds both, {pytester.path} (an ini file there, or --rootdir={pytester.path}), *",
        ])
        assert " json (" not in result.stdout.str() and "pytest (" not in result.stdout.str()  # installed: the image's
    # With that rootdir the bundle holds src/ too, and nothing is said.
    result = _run(pytester, bucket, "tests", f"--rootdir={pytester.path}", "-c", str(pytester.path / "tests" / "pytest.ini"), "--lambda-dry-run")
    assert result.ret == 0 and "outside the rootdir" not in result.stdout.str(), result.stdout.str()

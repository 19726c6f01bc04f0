"""What `pip install .` puts in site-packages: one import name, and no stand-in in the image."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO


def _wheel(source: Path, out: Path) -> list[str]:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
        check=True, capture_output=True, timeout=300,
    )
    (wheel,) = out.glob("*.whl")
    return zipfile.ZipFile(wheel).namelist()


def _tops(names: list[str]) -> set[str]:
    return {name.split("/", 1)[0] for name in names if not name.split("/", 1)[0].endswith((".dist-info", ".data"))}


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tracked files of this checkout, as a build would see them."""
    copy = tmp_path_factory.mktemp("checkout") / "src"
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    for rel in files:
        if (Path(REPO) / rel).is_file():
            (copy / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(Path(REPO) / rel, copy / rel)
    return copy


@pytest.fixture(scope="module")
def wheel(checkout: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel `pip install .` builds from this checkout, built once for the module."""
    out = tmp_path_factory.mktemp("wheel")
    _wheel(checkout, out)
    (path,) = out.glob("*.whl")
    return path


def test_everything_installs_under_one_import_name(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert _tops(names) == {"lambda_ui"}, "no generic top-level packages (runner, bin, lambda_pkg) in site-packages"
    for module in ("lambda_ui/contract.py", "lambda_ui/runner/plugin.py", "lambda_ui/function/handler.py", "lambda_ui/cli/main.py", "lambda_ui/local_lambda/local.py", "lambda_ui/runner/reports/static/report.html"):
        assert module in names, module


def test_the_function_image_context_carries_no_stand_in(checkout: Path, tmp_path: Path) -> None:
    """lambda_pkg/Dockerfile builds from the repository with .dockerignore applied: local_lambda/ is left out."""
    ignored = [line.strip() for line in (checkout / ".dockerignore").read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert "local_lambda" in ignored
    for entry in ignored:  # the plain names; a build left by another test is one of them
        path = checkout / entry
        if "*" not in entry and path.is_dir():
            shutil.rmtree(path)
        elif "*" not in entry and path.exists():
            path.unlink()
    names = _wheel(checkout, tmp_path)
    assert not [n for n in names if n.startswith("lambda_ui/local_lambda/")]
    assert "lambda_ui/function/handler.py" in names and "lambda_ui/runner/plugin.py" in names


def test_the_one_command_and_its_aliases() -> None:
    bindir = Path(sys.executable).parent
    for command in (["lambda-ui", "report", "--help"], ["lambda-ui-report", "--help"], ["lambda-ui", "local-lambda", "--help"], ["lambda-ui-local-lambda", "--help"]):
        result = subprocess.run([str(bindir / command[0]), *command[1:]], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0 and "usage:" in result.stdout, (command, result.stderr[-500:])
    unknown = subprocess.run([str(bindir / "lambda-ui"), "nope"], capture_output=True, text=True, timeout=60)
    assert unknown.returncode == 2 and "unknown command 'nope'" in unknown.stderr


def test_a_plain_install_has_one_name_and_says_what_local_lambda_needs(wheel: Path, tmp_path: Path) -> None:
    """`pip install .` without extras, in a fresh venv: the acceptance of issue 14, as a user would see it."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q", str(wheel)],
                   check=True, capture_output=True, timeout=600)
    elsewhere = tmp_path / "elsewhere"  # not the checkout: its folders would import from the working directory
    elsewhere.mkdir()

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(argv), cwd=elsewhere, capture_output=True, text=True, timeout=120)

    for name in ("runner", "bin", "lambda_pkg"):
        assert "No module named" in run(str(venv / "bin" / "python"), "-c", f"import {name}").stderr, name
    assert run(str(venv / "bin" / "python"), "-c", "import lambda_ui.contract, lambda_ui.runner.plugin, lambda_ui.function.handler").returncode == 0
    report = run(str(venv / "bin" / "lambda-ui"), "report", "--help")
    assert report.returncode == 0 and "usage: lambda-ui report" in report.stdout, report.stderr[-500:]
    for command in ([str(venv / "bin" / "lambda-ui"), "local-lambda", "--help"], [str(venv / "bin" / "lambda-ui-local-lambda")]):
        local = run(*command)
        assert local.returncode == 2 and "needs the [local] extra: pip install 'pytest-lambda-ui[local]'" in local.stderr, local.stderr[-500:]

"""Which loaded modules the bundle cannot carry: outside the rootdir, and no distribution's."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from lambda_ui.runner.bundle import loaded_module_files
from lambda_ui.runner.outside_imports import imported_from_outside, warning


def _load(monkeypatch: pytest.MonkeyPatch, name: str, file: Path) -> None:
    module = types.ModuleType(name)
    module.__file__ = str(file)
    monkeypatch.setitem(sys.modules, name, module)


def test_only_the_suite_s_own_code_outside_the_rootdir_is_named(tmp_path: Path) -> None:
    root, sibling = tmp_path / "tests", tmp_path / "src"
    loaded = [
        ("zz_sibling_helpers", sibling / "zz_sibling_helpers.py"),  # a conftest's sys.path.insert
        ("zz_pages", root / "zz_pages.py"),  # below the rootdir: in the bundle
        # An editable install keeps its modules outside the environment; the image installs it its own way.
        ("junitparser.zz_editable", tmp_path / "checkout" / "junitparser" / "zz_editable.py"),
        ("lambda_ui.zz_plugin_part", tmp_path / "plugin" / "zz_plugin_part.py"),  # this plugin's own
        ("__main__", tmp_path / "run.py"),
    ]
    assert imported_from_outside(root, loaded) == [("zz_sibling_helpers", sibling / "zz_sibling_helpers.py")]


def test_the_scan_reads_loaded_modules_and_leaves_the_environment_out(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _load(monkeypatch, "zz_sibling_helpers", tmp_path / "src" / "zz_sibling_helpers.py")
    names = dict(loaded_module_files())
    assert names["zz_sibling_helpers"] == tmp_path / "src" / "zz_sibling_helpers.py"
    assert "pytest" not in names and "os" not in names  # site-packages and the standard library: the image's


def test_the_warning_says_which_rootdir_would_hold_both(tmp_path: Path) -> None:
    line = warning(tmp_path / "tests", [("helpers", tmp_path / "src" / "helpers.py")])
    assert line is not None and f"give the run a rootdir that holds both, {tmp_path} (an ini file there, or --rootdir={tmp_path})" in line
    # Nothing in common but the filesystem's root: only the image can hold it.
    far = warning(tmp_path, [("helpers", Path("/opt/elsewhere/helpers.py"))])
    assert far is not None and "rootdir that holds both" not in far and far.endswith("install that code into the function's image")
    assert warning(tmp_path, []) is None

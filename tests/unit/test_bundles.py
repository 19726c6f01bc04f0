from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from lambda_pkg.bundles import BundleCache, forget_modules
from runner.bundle import build_bundle
from runner.contract import InvalidEvent


class FakeS3:
    """Just enough of get_object for the cache: a dict of key -> bytes."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.gets = 0

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:  # noqa: N803 - boto3's names
        self.gets += 1
        if Key not in self.objects:
            raise KeyError(Key)
        return {"Body": io.BytesIO(self.objects[Key])}


def _publish(s3: FakeS3, folder: Path, files: dict[str, str]) -> dict[str, str]:
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    built = build_bundle(folder, list(files))
    s3.objects[built.key] = built.data
    return {"bucket": "b", "key": built.key, "sha256": built.sha256}


def test_bundles_are_deterministic(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "t.py").write_text("x = 1\n")
    first = build_bundle(tmp_path / "a", ["t.py"])
    (tmp_path / "a" / "t.py").touch()  # a new mtime changes nothing
    assert build_bundle(tmp_path / "a", ["t.py"]).sha256 == first.sha256
    (tmp_path / "a" / "t.py").write_text("x = 2\n")
    assert build_bundle(tmp_path / "a", ["t.py"]).sha256 != first.sha256


def test_cache_reuses_and_evicts(tmp_path: Path) -> None:
    s3 = FakeS3()
    refs = [_publish(s3, tmp_path / f"src{i}", {"test_x.py": f"V = {i}\n"}) for i in range(3)]
    cache = BundleCache(tmp_path / "cache", keep=2)
    first = cache.get(refs[0], s3)
    assert not first.cached and (first.path / "test_x.py").read_text() == "V = 0\n"
    assert cache.get(refs[0], s3).cached and s3.gets == 1
    cache.get(refs[1], s3)
    cache.get(refs[2], s3)
    kept = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert kept == sorted([refs[1]["sha256"], refs[2]["sha256"]])


def test_cache_rejects_wrong_hash_and_unsafe_paths(tmp_path: Path) -> None:
    s3 = FakeS3()
    ref = _publish(s3, tmp_path / "src", {"t.py": "pass\n"})
    cache = BundleCache(tmp_path / "cache")
    with pytest.raises(InvalidEvent) as info:
        cache.get(dict(ref, sha256="f" * 64), s3)  # type: ignore[arg-type]
    assert info.value.error_type == "BundleMismatch"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("../escape.py", "pass")
    data = buffer.getvalue()
    import hashlib

    sha = hashlib.sha256(data).hexdigest()
    s3.objects["bundles/evil.zip"] = data
    with pytest.raises(InvalidEvent) as info:
        cache.get({"bucket": "b", "key": "bundles/evil.zip", "sha256": sha}, s3)
    assert info.value.error_type == "BundleInvalid"
    assert not (tmp_path / "escape.py").exists()
    with pytest.raises(InvalidEvent) as info:
        cache.get({"bucket": "b", "key": "bundles/none.zip", "sha256": sha}, s3)
    assert info.value.error_type == "BundleMissing"


def test_forget_modules_drops_only_that_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "stale_mod_for_test.py").write_text("V = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    __import__("stale_mod_for_test")
    assert forget_modules(tmp_path) == 1
    assert "stale_mod_for_test" not in sys.modules and "pytest" in sys.modules
    assert str(tmp_path) not in sys.path


def test_select_files_follows_git_ignore_rules(tmp_path: Path) -> None:
    import subprocess

    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("pass\n")
    (tmp_path / "tests" / "new_untracked.py").write_text("pass\n")
    (tmp_path / "secret.log").write_text("ignored\n")
    (tmp_path / ".gitignore").write_text("*.log\n")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", ".gitignore", "tests/test_a.py"], cwd=tmp_path, check=True)
    from runner.bundle import select_files

    assert select_files(tmp_path) == [".gitignore", "tests/new_untracked.py", "tests/test_a.py"]
    # From a subfolder of the checkout (a rootdir below the git root), paths stay relative to it.
    assert select_files(tmp_path / "tests") == ["new_untracked.py", "test_a.py"]


def test_select_files_without_git_skips_the_usual_noise(tmp_path: Path) -> None:
    from runner.bundle import select_files

    for rel in ["test_a.py", ".venv/lib/x.py", "node_modules/m/i.js", "__pycache__/a.pyc", "pkg/mod.py", "artifacts/r/s.png"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    assert select_files(tmp_path) == ["pkg/mod.py", "test_a.py"]


def test_oversized_bundle_names_the_largest_files(tmp_path: Path) -> None:
    from runner.bundle import BundleProblem, check_size

    (tmp_path / "big.bin").write_bytes(b"\0" * 3_000_000)
    (tmp_path / "small.py").write_text("x")
    with pytest.raises(BundleProblem, match=r"3\.0 MB, over the 2 MB limit\. Largest files: big\.bin \(3\.0 MB\), small\.py"):
        check_size(tmp_path, ["big.bin", "small.py"], limit=2_000_000)

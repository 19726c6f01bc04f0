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

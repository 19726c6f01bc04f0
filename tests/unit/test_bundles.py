from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from lambda_ui.contract import InvalidEvent
from lambda_ui.function.bundles import BundleCache, forget_modules
from lambda_ui.runner.bundle import build_bundle


class FakeS3:
    """Just enough of get_object for the cache: a dict of key -> bytes."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.gets = 0

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:  # boto3's parameter names
        self.gets += 1
        if Key not in self.objects:
            raise KeyError(Key)
        data = self.objects[Key]
        return {"Body": io.BytesIO(data), "ContentLength": len(data)}


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


def test_select_files_ships_what_git_tracks(tmp_path: Path) -> None:
    import subprocess

    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("pass\n")
    (tmp_path / "tests" / "new_untracked.py").write_text("pass\n")
    (tmp_path / "secret.log").write_text("ignored\n")
    (tmp_path / ".gitignore").write_text("*.log\n")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", ".gitignore", "tests/test_a.py"], cwd=tmp_path, check=True)
    from lambda_ui.runner.bundle import select_files

    # Untracked files ship only through lambda_bundle_include (tests/unit/test_bundle_rules.py).
    assert select_files(tmp_path) == [".gitignore", "tests/test_a.py"]
    # From a subfolder of the checkout (a rootdir below the git root), paths stay relative to it.
    assert select_files(tmp_path / "tests") == ["test_a.py"]


def test_select_files_without_git_ships_what_collection_needed(tmp_path: Path) -> None:
    from lambda_ui.runner.bundle import BundleRules, select_files

    for rel in ["test_a.py", ".venv/lib/x.py", "node_modules/m/i.js", "__pycache__/a.pyc", "pkg/mod.py", "artifacts/r/s.png"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    assert select_files(tmp_path) == []
    needed = (str(tmp_path / "test_a.py"), str(tmp_path / "pkg" / "mod.py"), str(tmp_path / "__pycache__" / "a.pyc"))
    assert select_files(tmp_path, BundleRules(needed=needed)) == ["pkg/mod.py", "test_a.py"]
    # An include glob never walks into environments and caches.
    assert select_files(tmp_path, BundleRules(include=("*.py", "*.js"))) == ["pkg/mod.py", "test_a.py"]


def test_oversized_bundle_names_the_largest_files(tmp_path: Path) -> None:
    from lambda_ui.runner.bundle import BundleProblem, check_size

    (tmp_path / "big.bin").write_bytes(b"\0" * 3_000_000)
    (tmp_path / "small.py").write_text("x")
    with pytest.raises(BundleProblem, match=r"3\.0 MB, over the 2 MB limit\. Largest files: big\.bin \(3\.0 MB\), small\.py"):
        check_size(tmp_path, ["big.bin", "small.py"], limit=2_000_000)


# -- hostile bundles: sizes are checked before anything is written ---------------

MB = 1024 * 1024


def _zeros_zip(members: dict[str, int]) -> bytes:
    """A real zip of zero-filled members: deflate makes 64 MB of zeros about 64 KB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, size in members.items():
            with zf.open(name, "w", force_zip64=True) as out:
                for _ in range(size // MB):
                    out.write(bytes(MB))
                out.write(bytes(size % MB))
    return buffer.getvalue()


def _serve(s3: FakeS3, data: bytes, key: str = "bundles/hostile.zip") -> dict[str, str]:
    import hashlib

    s3.objects[key] = data
    return {"bucket": "b", "key": key, "sha256": hashlib.sha256(data).hexdigest()}


def _left_behind(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def test_a_zip_bomb_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    s3 = FakeS3()
    ref = _serve(s3, _zeros_zip({"tests/zeros.bin": 64 * MB, "tests/test_a.py": 10}))
    assert len(s3.objects[ref["key"]]) < MB
    # /tmp as Lambda's would be: 48 MB free, 16 MB of it kept for Chrome.
    cache = BundleCache(tmp_path / "cache", reserve_bytes=16 * MB, free_space=lambda _: 48 * MB)
    with pytest.raises(InvalidEvent) as info:
        cache.get(ref, s3)  # type: ignore[arg-type]
    assert info.value.error_type == "BundleInvalid"
    message = str(info.value)
    assert "unpacks to 2 file(s) of 64.0 MB" in message and "48.0 MB free" in message and "16.0 MB of it" in message
    assert "Largest: tests/zeros.bin (64.0 MB)" in message
    assert _left_behind(tmp_path / "cache") == []


def test_a_bundle_that_fits_is_unpacked(tmp_path: Path) -> None:
    s3 = FakeS3()
    ref = _serve(s3, _zeros_zip({"data/zeros.bin": 8 * MB, "empty/": 0}))
    cache = BundleCache(tmp_path / "cache", reserve_bytes=16 * MB, free_space=lambda _: 32 * MB)
    bundle = cache.get(ref, s3)  # type: ignore[arg-type]
    assert (bundle.path / "data" / "zeros.bin").stat().st_size == 8 * MB


def test_too_many_members_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("lambda_ui.function.bundles.MAX_MEMBERS", 10)
    s3 = FakeS3()
    ref = _serve(s3, _zeros_zip({f"f{i}.py": 1 for i in range(11)}))
    with pytest.raises(InvalidEvent, match="11 members, more than 10") as info:
        BundleCache(tmp_path / "cache").get(ref, s3)  # type: ignore[arg-type]
    assert info.value.error_type == "BundleInvalid"


def _lying_zip(name: str, true_size: int, claimed: int) -> bytes:
    """A deflated member of ``true_size`` zeros whose headers claim ``claimed`` bytes."""
    import struct

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr(name, bytes(true_size))
    data = bytearray(buffer.getvalue())
    central = data.rindex(b"PK\x01\x02")
    for offset in (22, central + 24):  # uncompressed size: local file header, central directory entry
        assert struct.unpack_from("<I", data, offset)[0] == true_size
        struct.pack_into("<I", data, offset, claimed)
    return bytes(data)


def test_a_lying_header_stops_the_extraction(tmp_path: Path) -> None:
    """A member that unpacks to more than its header says is cut off, not written in full."""
    s3 = FakeS3()
    ref = _serve(s3, _lying_zip("zeros.bin", 16 * MB, 1000))
    cache = BundleCache(tmp_path / "cache", reserve_bytes=0, free_space=lambda _: 8 * MB)
    with pytest.raises(InvalidEvent) as info:
        cache.get(ref, s3)  # type: ignore[arg-type]
    assert info.value.error_type == "BundleInvalid"
    assert _left_behind(tmp_path / "cache") == []


def test_the_stream_cap_holds_without_zipfile_help(tmp_path: Path) -> None:
    """The copy itself stops at the declared size and at the quota, whatever the source yields."""
    from lambda_ui.function.bundles import _Quota

    quota = _Quota(left=3 * MB, free=4 * MB, reserve=MB)
    with pytest.raises(InvalidEvent, match="larger than its header says"):
        quota.copy(io.BytesIO(bytes(2 * MB)), tmp_path / "a", MB, "member 'a'")
    assert (tmp_path / "a").stat().st_size <= MB
    with pytest.raises(InvalidEvent, match=r"is more than 4\.0 MB, but /tmp has 4\.0 MB free") as info:
        quota.copy(io.BytesIO(bytes(8 * MB)), tmp_path / "b", 8 * MB, "member 'b'")
    assert info.value.error_type == "BundleInvalid"
    assert (tmp_path / "b").stat().st_size <= 3 * MB


def test_an_object_larger_than_tmp_is_not_downloaded(tmp_path: Path) -> None:
    s3 = FakeS3()
    ref = _serve(s3, bytes(4 * MB))
    cache = BundleCache(tmp_path / "cache", reserve_bytes=MB, free_space=lambda _: 2 * MB)
    with pytest.raises(InvalidEvent, match=r"hostile\.zip is 4\.0 MB, but /tmp has 2\.0 MB free") as info:
        cache.get(ref, s3)  # type: ignore[arg-type]
    assert info.value.error_type == "BundleInvalid"
    assert _left_behind(tmp_path / "cache") == []


def test_a_full_disk_is_the_environments_problem(tmp_path: Path) -> None:
    """ENOSPC while writing (the space went elsewhere) is retryable; /dev/full answers every write with it."""
    from lambda_ui.function.bundles import _disk_error, _Quota

    quota = _Quota(left=8 * MB, free=8 * MB, reserve=0)
    with pytest.raises(OSError) as info:
        quota.copy(io.BytesIO(bytes(MB)), Path("/dev/full"), MB, "member 'a'")
    assert _disk_error(info.value, "x").error_type == "EnvironmentUnhealthy"
    assert _disk_error(OSError(36, "File name too long"), "x").error_type == "BundleInvalid"

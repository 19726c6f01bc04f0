"""What tests write in the bundle's unpacked copy: found after each test, undone when a session ends."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from lambda_ui.function.bundles import BundleCache
from lambda_ui.function.written_files import BundleWrites, snapshot
from tests.unit.test_bundles import FakeS3, _publish


def _unpacked(tmp_path: Path) -> tuple[BundleCache, BundleWrites, Path]:
    s3 = FakeS3()
    ref = _publish(s3, tmp_path / "src", {"test_a.py": "def test_a(): pass\n", "data.csv": "a,b\n"})
    cache = BundleCache(tmp_path / "cache")
    bundle = cache.get(ref, s3)
    return cache, cache.writes(bundle), bundle.path


def test_each_look_finds_the_files_added_or_changed_since_the_last(tmp_path: Path) -> None:
    _cache, writes, root = _unpacked(tmp_path)
    assert writes.changed() == []  # the marker holding the manifest is not the test's
    (root / "screenshots").mkdir()
    (root / "screenshots" / "a.png").write_bytes(b"png")
    (root / "data.csv").write_text("a,b\n1,2\n")
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"")
    os.symlink("/proc/self/environ", root / "env-link")
    (root / ".coverage.host.1234").write_bytes(b"")  # a tool's hidden state, as pytest-cov writes it
    (root / ".cache").mkdir()
    (root / ".cache" / "x.json").write_text("{}")
    # Regular files the test added: no link, no bytecode, nothing hidden, not the bundle's own data.csv
    # (no output of the test; the session's restore finds the change).
    assert writes.changed() == ["screenshots/a.png"]
    assert writes.changed() == []
    (root / "screenshots" / "a.png").write_bytes(b"png, again and longer")  # in place: its folder's time stays
    (root / "out" / "deep").mkdir(parents=True)
    (root / "out" / "deep" / "r.json").write_text("{}")
    assert writes.changed() == ["out/deep/r.json", "screenshots/a.png"]
    shutil.rmtree(root / "out")
    (root / "screenshots" / "a.png").unlink()
    assert writes.changed() == []
    (root / "screenshots" / "a.png").write_bytes(b"png")  # written again after it was removed
    assert writes.changed() == ["screenshots/a.png"]


def test_restore_removes_what_tests_added_and_says_whether_the_unpacked_files_are_intact(tmp_path: Path) -> None:
    cache, writes, root = _unpacked(tmp_path)
    (root / "out" / "deep").mkdir(parents=True)
    (root / "out" / "deep" / "r.json").write_text("{}")
    (root / "notes.txt").write_text("x")
    os.symlink("test_a.py", root / "link.py")
    assert writes.restore() is True
    assert sorted(os.listdir(root)) == [".lambda-ui-complete", "data.csv", "test_a.py"]
    assert writes.changed() == []  # the next session starts from the unpacked copy

    (root / "data.csv").write_text("changed by a test\n")
    assert writes.restore() is False  # the caller throws the copy away
    cache.discard(root.name)
    assert not root.exists()


def test_a_removed_file_is_a_changed_copy(tmp_path: Path) -> None:
    _cache, writes, root = _unpacked(tmp_path)
    (root / "data.csv").unlink()
    assert writes.restore() is False


def test_a_marker_without_a_manifest_takes_the_copy_as_it_is(tmp_path: Path) -> None:
    cache, _writes, root = _unpacked(tmp_path)
    (root / ".lambda-ui-complete").write_text("")  # unpacked by an older handler
    (root / "kept.txt").write_text("was there")
    writes = cache.writes(cache.get({"bucket": "b", "key": "k", "sha256": root.name}, FakeS3()))
    assert set(writes.pristine) == {"data.csv", "test_a.py", "kept.txt"}
    assert snapshot(root, skip=".lambda-ui-complete") == writes.pristine
    assert writes.changed() == []


def test_a_leftover_of_an_earlier_process_is_no_test_s_output_but_goes_at_restore(tmp_path: Path) -> None:
    cache, writes, root = _unpacked(tmp_path)
    (root / "left.txt").write_text("an earlier process's test wrote it and the process died")
    fresh = cache.writes(cache.get({"bucket": "b", "key": "k", "sha256": root.name}, FakeS3()))
    assert fresh.changed() == []
    assert fresh.restore() is True and not (root / "left.txt").exists()

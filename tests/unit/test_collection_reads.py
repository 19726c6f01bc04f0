"""Which files the suite read while collected: reads below the root, while active, and nothing else."""

from __future__ import annotations

import os
from pathlib import Path

from lambda_ui.runner.collection_reads import Reads


def test_reads_below_the_root_while_active_and_nothing_else(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside.txt"
    (root / "data").mkdir(parents=True)
    for rel in ("data/a.csv", "data/b.csv", "data/late.csv"):
        (root / rel).write_text("x\n")
    outside.write_text("x\n")
    reads = Reads(root)
    reads.start()
    try:
        (root / "data" / "a.csv").read_text()
        with open(os.fsencode(root / "data" / "b.csv"), "rb"):  # a bytes path
            pass
        outside.read_text()
        (root / "written.txt").write_text("x")  # created: not a read
        with open(root / "data" / "a.csv", "r+"):  # opened to write: not a read
            pass
        fd = os.open(root / "data" / "a.csv", os.O_RDONLY)
        with open(fd, closefd=True):  # a descriptor has no path to record
            pass
        os.listdir(root / "data")
    finally:
        reads.stop()
    (root / "data" / "late.csv").read_text()  # after stop
    assert reads.paths == {str(root / "data" / "a.csv"), str(root / "data" / "b.csv")}


def test_a_second_reads_records_on_its_own(tmp_path: Path) -> None:
    (tmp_path / "one.txt").write_text("1")
    (tmp_path / "two.txt").write_text("2")
    first, second = Reads(tmp_path), Reads(tmp_path)
    first.start()
    (tmp_path / "one.txt").read_text()
    first.stop()
    second.start()
    first.stop()  # stopping one no longer active leaves the other recording
    (tmp_path / "two.txt").read_text()
    second.stop()
    assert first.paths == {str(tmp_path / "one.txt")} and second.paths == {str(tmp_path / "two.txt")}

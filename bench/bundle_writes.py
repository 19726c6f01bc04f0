"""What looking for a test's written files costs the function, per test.

After every test the function walks the bundle's unpacked copy for files the test added
(lambda_pkg/written_files.py): a stat per folder, and a listing of the folders whose
time moved. This builds copies of N files in 160 folders (as a suite's tests, pages,
data and fixtures lie) and times one look with nothing written, one with a test's
screenshot written, and the restore an environment does once per run (every file):

    python bench/bundle_writes.py [--files 100 1000 5000] [--repeat 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from lambda_ui.function.written_files import BundleWrites, snapshot  # noqa: E402


def _tree(root: Path, files: int) -> None:
    for n in range(files):
        folder = root / f"pkg{n % 20}" / f"sub{n % 7}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"test_{n}.py").write_text("def test(): pass\n")


def _median_ms(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    print("| files in the bundle | look, nothing written | look, one file written | restore |")
    print("|---|---|---|---|")
    for files in args.files:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            _tree(root, files)
            writes = BundleWrites(root, snapshot(root))
            idle = _median_ms(writes.changed, args.repeat)
            shot = root / "screenshots" / "a.png"
            shot.parent.mkdir()

            def written(shot: Path = shot, writes: BundleWrites = writes) -> None:
                shot.write_bytes(b"png" * (1 + int(time.time_ns() % 7)))
                writes.changed()

            wrote = _median_ms(written, args.repeat)
            restore = _median_ms(writes.restore, args.repeat)
        print(f"| {files:,} | {idle:.2f} ms | {wrote:.2f} ms | {restore:.2f} ms |")


if __name__ == "__main__":
    main()

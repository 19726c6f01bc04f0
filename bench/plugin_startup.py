"""What the installed plugin adds to a plain pytest start-up (no ``--lambda``).

Makes a one-test suite in a temp dir and runs ``python -m pytest --co -q`` on it
``--runs`` times with the plugin and as many with ``-p no:lambda_ui``, alternating, in
one process, so both arms see the same machine load:

    python bench/plugin_startup.py [--runs 15] [--goal-ms 50] [--by wall|cpu] [--importtime]

Prints median and min wall time and median CPU time of each arm, the added start-up
(difference of the medians) and the goal with PASS or MISS, judged on wall time unless
``--by cpu``; exits 1 on a miss. CPU time (user + system of the pytest process) hardly
changes when other work loads the machine; wall time does. ``--importtime`` also
prints the ten largest cumulative imports the plugin causes (``python -X importtime``).

pytest-selenium, installed here for the project's own tests, imports selenium when
pytest loads it; its entry points are blocked in both arms (``--keep-pytest-selenium``
keeps them), or it would hide what selenium costs the plugin.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

PLUGIN = "lambda_ui"
SUITE = "def test_one():\n    assert True\n"


def blocked_plugins(distribution: str) -> list[str]:
    """``-p no:NAME`` for every pytest plugin ``distribution`` registers (none if it is not installed)."""
    try:
        points = metadata.distribution(distribution).entry_points
    except metadata.PackageNotFoundError:
        return []
    return [arg for ep in points if ep.group == "pytest11" for arg in ("-p", f"no:{ep.name}")]


def pytest_command(extra: list[str]) -> list[str]:
    return [sys.executable, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider", *extra]


def clean_env() -> dict[str, str]:
    """The caller's environment without what would change pytest's plugin set."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD")}
    env["PYTHONDONTWRITEBYTECODE"] = ""  # cached bytecode, as an installed plugin has
    return env


def timed_run(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one run; CPU barely moves when other work loads the machine."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        _pid, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{errors.read().decode(errors='replace')}")
    return elapsed, usage.ru_utime + usage.ru_stime


@dataclass
class Arm:
    name: str
    command: list[str]
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def line(self) -> str:
        wall = f"median {statistics.median(self.times) * 1000:7.1f} ms   min {min(self.times) * 1000:7.1f} ms"
        return f"{self.name:<16} wall {wall}   cpu median {statistics.median(self.cpu) * 1000:7.1f} ms   ({len(self.times)} runs)"


def measure(suite: Path, runs: int, base: list[str], env: dict[str, str]) -> tuple[Arm, Arm]:
    on = Arm("plugin on", pytest_command(base))
    off = Arm(f"-p no:{PLUGIN}", pytest_command([*base, "-p", f"no:{PLUGIN}"]))
    for arm in (on, off):  # warm-up: page cache and bytecode, not counted
        timed_run(arm.command, suite, env)
    for i in range(runs):
        # Alternate which arm goes first, so a trend in the machine's load hits both alike.
        order = (on, off) if i % 2 == 0 else (off, on)
        for arm in order:
            wall, cpu = timed_run(arm.command, suite, env)
            arm.times.append(wall)
            arm.cpu.append(cpu)
    return on, off


@dataclass
class Import:
    depth: int
    name: str
    cumulative_us: int


def parse_importtime(stderr: str) -> list[Import]:
    """``-X importtime`` lines as (depth, module, cumulative µs), in the order Python printed them."""
    rows = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line[len("import time:") :].split("|", 2)
        if not cumulative.strip().isdigit():
            continue  # the header line
        stripped = name.lstrip(" ")
        rows.append(Import((len(name) - len(stripped) - 1) // 2, stripped.strip(), int(cumulative)))
    return rows


def plugin_imports(rows: list[Import]) -> tuple[list[Import], int]:
    """The imports the plugin causes, and their total in µs.

    Python prints a module after the modules it imported, one level deeper, so a row's
    importer is the next row above its depth. A row counts when it or an importer of it
    is a ``lambda_ui`` module; the total adds the counted rows whose importer does not count.
    """
    parents: list[int | None] = []
    for i, row in enumerate(rows):
        parents.append(next((j for j in range(i + 1, len(rows)) if rows[j].depth < row.depth), None))
    counted: list[bool] = [False] * len(rows)
    for i in reversed(range(len(rows))):  # importers come later, so they are decided first
        parent = parents[i]
        counted[i] = rows[i].name.split(".")[0] == PLUGIN or (parent is not None and counted[parent])
    picked = [row for row, keep in zip(rows, counted) if keep]
    total = 0
    for i, parent in enumerate(parents):
        if counted[i] and (parent is None or not counted[parent]):
            total += rows[i].cumulative_us
    return picked, total


def print_importtime(suite: Path, base: list[str], env: dict[str, str]) -> None:
    command = [sys.executable, "-X", "importtime", *pytest_command(base)[1:]]
    done = subprocess.run(command, cwd=suite, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    picked, total = plugin_imports(parse_importtime(done.stderr))
    print(f"\nimports the plugin causes (python -X importtime, one run): {total / 1000:.1f} ms cumulative")
    largest: dict[str, int] = {}
    for row in picked:  # ``from a.b import c`` prints a.b again after its parent: keep the larger line
        largest[row.name] = max(largest.get(row.name, 0), row.cumulative_us)
    for name, us in sorted(largest.items(), key=lambda kv: kv[1], reverse=True)[:10]:
        print(f"  {us / 1000:7.1f} ms  {name}")
    heavy = sorted({row.name.split(".")[0] for row in picked} & {"boto3", "botocore", "selenium", "psutil", "urllib3"})
    print(f"  heavy packages among them: {', '.join(heavy) or 'none'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs of each arm (default 15)")
    parser.add_argument("--goal-ms", type=float, default=50.0, help="most start-up the plugin may add (default 50)")
    parser.add_argument("--importtime", action="store_true", help="also print the plugin's ten largest imports")
    parser.add_argument(
        "--by", choices=("wall", "cpu"), default="wall",
        help="judge the goal on wall time (default) or on CPU time, steadier on a machine other work loads",
    )
    parser.add_argument("--keep-pytest-selenium", action="store_true", help="leave pytest-selenium's plugins loaded in both arms")
    args = parser.parse_args()

    base = [] if args.keep_pytest_selenium else blocked_plugins("pytest-selenium")
    env = clean_env()
    with tempfile.TemporaryDirectory(prefix="plugin-startup-") as tmp:
        suite = Path(tmp)
        (suite / "test_one.py").write_text(SUITE)
        on, off = measure(suite, args.runs, base, env)
        added_ms = (statistics.median(on.times) - statistics.median(off.times)) * 1000
        added_cpu_ms = (statistics.median(on.cpu) - statistics.median(off.cpu)) * 1000
        print(f"pytest --co -q on a one-test suite{'' if args.keep_pytest_selenium else ', pytest-selenium blocked in both arms'}")
        print(on.line())
        print(off.line())
        print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (wall time is noisy when it exceeds the cores)")
        judged = added_ms if args.by == "wall" else added_cpu_ms
        verdict = "PASS" if judged <= args.goal_ms else "MISS"
        print(f"added start-up (median difference): wall {added_ms:.1f} ms, cpu {added_cpu_ms:.1f} ms   goal <= {args.goal_ms:g} ms ({args.by}): {verdict}")
        if args.importtime:
            print_importtime(suite, base, env)
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())

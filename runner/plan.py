"""``--lambda-dry-run``: what a run would do, printed, with nothing invoked or uploaded.

The plan (tests, expected wall time and cost from the duration history), the
bundle's files, and what would stop the run (bundle size, image drift).
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from lambda_ui.runner import bundle as bundling
from lambda_ui.runner.bundle_upload import select_bundle
from lambda_ui.runner.cost import run_cost
from lambda_ui.runner.forwarding import working_folder
from lambda_ui.runner.history import history_path
from lambda_ui.runner.options import LambdaSettings
from lambda_ui.runner.outside_imports import outside_warning
from lambda_ui.runner.scheduler import dispatch_order, lpt_makespan
from lambda_ui.runner.startup import Target, image_problems
from lambda_ui.runner.terminal import write_line

#: Seconds assumed for a test when no test has a history yet.
GUESS_S = 10.0
#: Tests listed, in dispatch order, unless -v asks for all.
SHOWN = 10


def dry_run(
    session: pytest.Session,
    settings: LambdaSettings,
    target: Target,
    nodeids: list[str],
    history: dict[str, float],
    local_artifacts: list[str],
    groups: Mapping[str, str] | None = None,
) -> None:
    config = session.config
    print_plan(config, settings, target, nodeids, history, groups or {})
    print_bundle(session, settings, local_artifacts)
    for problem in image_problems(config, settings, target.distributions):
        write_line(config, f"lambda dry run: the image would stop this run: {problem}", yellow=True)


def print_plan(
    config: pytest.Config, settings: LambdaSettings, target: Target, nodeids: list[str], history: dict[str, float], groups: Mapping[str, str]
) -> None:
    known = [history[n] for n in nodeids if n in history]
    guess = sum(known) / len(known) if known else GUESS_S
    durations = [history.get(n, guess) for n in nodeids]
    wall = lpt_makespan(_jobs(nodeids, durations, groups), target.concurrency) if durations else 0.0
    gb_s = sum(durations) * target.memory_mb / 1024
    cost = run_cost(gb_s, len(nodeids), settings.price_per_gb_s)
    write_line(
        config,
        f"lambda dry run: {len(nodeids)} tests ({len(known)} with history, others assumed {guess:.1f} s), "
        f"concurrency {target.concurrency}, function {settings.function} ({target.memory_mb} MB)",
    )
    write_line(config, f"lambda dry run: expected wall time {wall:.1f} s (longest test {max(durations, default=0):.1f} s), about {gb_s:.0f} GB-s, ${cost:.4f}")
    write_line(config, f"lambda dry run: history from {history_path(config)} ({len(history)} tests recorded; ini lambda_history_file)")
    if settings.env:  # the names only: a value may be a secret
        write_line(config, f"lambda dry run: the tests get {', '.join(sorted(settings.env))} from --lambda-env (values not shown)")
    if folder := working_folder(config):
        write_line(config, f"lambda dry run: the tests run in {folder}/ of the bundle, where pytest started here")
    order = dispatch_order(nodeids, history)
    shown = order if config.get_verbosity() > 0 else order[:SHOWN]
    for nodeid, expected in shown:
        write_line(config, f"  {nodeid}  {'unknown' if expected is None else f'{expected:.1f} s'}")
    if len(order) > len(shown):
        write_line(config, f"  … and {len(order) - len(shown)} more (-v lists them all)")


def _jobs(nodeids: list[str], durations: list[float], groups: Mapping[str, str]) -> list[float]:
    """What runs side by side: each test alone, but a group's tests one after another (--dist loadgroup)."""
    chains: dict[str, float] = {}
    jobs: list[float] = []
    for nodeid, seconds in zip(nodeids, durations, strict=True):
        if (group := groups.get(nodeid)) is None:
            jobs.append(seconds)
        else:
            chains[group] = chains.get(group, 0.0) + seconds
    return jobs + list(chains.values())


def print_bundle(session: pytest.Session, settings: LambdaSettings, local_artifacts: list[str]) -> None:
    config = session.config
    selection = select_bundle(session, local_artifacts)
    source = "git-tracked files" if selection.source == "git" else "the files collection used"
    write_line(config, f"lambda dry run: the bundle, largest files first ({source}):")
    for line in selection.listing():
        write_line(config, f"  {line}")
    for line in selection.warnings():
        write_line(config, f"lambda: bundle: {line}", yellow=True)
    if (outside := outside_warning(config.rootpath)) is not None:
        write_line(config, f"lambda: bundle: {outside}", yellow=True)
    try:
        size = bundling.check_size(config.rootpath, selection.files, settings.max_bundle_bytes)
        built = bundling.build_bundle(config.rootpath, selection.files)
    except bundling.BundleProblem as exc:
        write_line(config, f"lambda dry run: the bundle would stop this run: {exc}", yellow=True)
        return
    write_line(
        config,
        f"lambda dry run: bundle {built.key} ({built.files} files, {size / 1e6:.2f} MB, {len(built.data) / 1e6:.2f} MB zipped), sha256 {built.sha256}",
    )

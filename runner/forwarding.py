"""The local command line, forwarded to the in-function pytest.

pytest-xdist hands its workers the controller's arguments; ``--lambda`` does the
same, so a suite's own options (``--browser``, ``--base-url``), plugins (``-p``),
ini overrides (``-o``) and warning filters reach the function with the values
typed here. Only what belongs to the client stays behind (:data:`CLIENT_ONLY_DESTS`).

Arguments are read with pytest's own parser: each token is matched to the
argparse action that consumed it locally, so short options in clusters
(``-vx``), attached values (``-kfoo``) and ``--name=value`` all split the way
pytest split them. The arguments come in pytest's order: the ini ``addopts``,
then ``PYTEST_ADDOPTS``, then the command line. The handler turns off the
bundle's own ``addopts`` (``-o addopts=``) since they arrive here expanded and
filtered.
"""

from __future__ import annotations

import argparse
import os
import shlex
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from lambda_ui.runner.options import GENERAL_OPTIONS

#: Options the client owns, by argparse dest. Forwarding them would split or repeat
#: the client's work, or point the function at this machine's files.
CLIENT_ONLY_DESTS = frozenset({
    # reporting to files: the client writes the one merged report
    "xmlpath", "junitprefix", "htmlpath", "self_contained_html", "css", "reportlog", "log_file", "json_report_file",
    # allure-pytest's folder: the function writes its own and the client fetches it (runner/allure_results.py)
    "allure_report_dir", "clean_alluredir",
    # selection and its cache: the client selected already and sends node ids
    "keyword", "markexpr", "deselect", "ignore", "ignore_glob", "lf", "failedfirst", "newfirst", "last_failed_no_failures",
    "stepwise", "stepwise_skip", "stepwise_reset", "cacheshow", "cacheclear", "collectonly",
    # stopping: the client counts failures across invocations
    "maxfail",
    # terminal output: the client's terminal prints the replayed reports
    "verbose", "reportchars", "color", "code_highlight", "durations", "durations_min", "no_header", "no_summary",
    "disable_warnings", "showcapture",
    # set by the handler for the function's own bundle, browser and temp dir
    "rootdir", "basetemp", "lambda_ui_artifacts", "lambda_ui_run_id", "lambda_ui_chrome_binary", "lambda_ui_chromedriver",
    # resolved here ("last", or a new one by default) and sent as a number: resolved_args()
    "randomly_seed",
})

#: Whole option groups the client owns: pytest-xdist's and ``--lambda``'s own.
CLIENT_ONLY_GROUPS = frozenset({"xdist", "lambda-ui-dispatch"})

#: Options whose values are never file paths, so they are never checked as one.
NOT_PATHS = frozenset({"plugins", "override_ini", "pythonwarnings", "tbstyle", "capture", "importmode", "lambda_ui_window_size", "lambda_ui_artifacts_mode"})

#: The plugin's general options, dest -> the long name every install has (runner/option_names.py).
LONG_NAMES = {option.dest: option.long for option in GENERAL_OPTIONS}

#: Options that cannot work in a function (no terminal to debug in).
REFUSED_DESTS = {"usepdb": "--pdb", "trace": "--trace"}


class ForwardingProblem(Exception):
    """An option cannot be forwarded as given; the message names it and says what to do."""


@dataclass(frozen=True)
class _Option:
    """One option occurrence as pytest parsed it."""

    spelling: str  # the option string used, e.g. "-k" or "--junitxml"
    dest: str
    values: tuple[str, ...]  # empty for flags


def command_line(config: pytest.Config) -> list[str]:
    """The arguments this session was parsed from, in pytest's order."""
    env = shlex.split(os.environ.get("PYTEST_ADDOPTS", ""))
    return [*config.getini("addopts"), *env, *config.invocation_params.args]


def forwarded_args(config: pytest.Config, args: Sequence[str] | None = None) -> list[str]:
    """The arguments the in-function pytest should get, paths rewritten to the bundle.

    Raises :class:`ForwardingProblem` for a path outside the rootdir or an option the
    function cannot honour.
    """
    parser = config._parser  # the same parser pytest used, conftest options included
    actions = parser.optparser._option_string_actions
    client_only = set(CLIENT_ONLY_DESTS)
    for group in parser._groups:
        if group.name in CLIENT_ONLY_GROUPS:
            client_only.update(option.dest for option in group.options)
    rewrite = _PathRewriter(config)
    result: list[str] = []
    for option in _options(actions, list(command_line(config) if args is None else args)):
        if option.dest in REFUSED_DESTS:
            raise ForwardingProblem(f"{REFUSED_DESTS[option.dest]} cannot be used with --lambda: the tests run in Lambda, with no terminal to debug in. Run the test locally (without --lambda) to debug it.")
        if option.dest in client_only:
            continue
        if option.dest == "capture" and option.values in ((), ("no",)):
            continue  # -s: the function captures, and the client prints what the tests wrote (runner/replay.py)
        if option.dest == "override_ini":
            value = rewrite.ini_override(option.values[0])
            if value is not None:
                result.append(f"--override-ini={value}")
            continue
        values = option.values if option.dest in NOT_PATHS else tuple(rewrite.value(option.spelling, v) for v in option.values)
        # The plugin's own options by their long names: there a suite may have the short one.
        spelling = LONG_NAMES.get(option.dest, option.spelling)
        result.extend(_spell(actions[spelling], spelling, values))
    return result + resolved_args(config)


def given_on_command_line(config: pytest.Config, dest: str) -> bool:
    """Whether the option with ``dest`` was typed on the command line, not taken from an addopts."""
    actions = config._parser.optparser._option_string_actions
    return any(option.dest == dest for option in _options(actions, [str(a) for a in config.invocation_params.args]))


def resolved_args(config: pytest.Config) -> list[str]:
    """Values the client resolved that every invocation must share, as pytest-xdist hands
    them to its workers: pytest-randomly's seed, so that the seed the terminal prints
    reproduces what the tests drew in Lambda (each function session picked its own)."""
    seed = getattr(config.option, "randomly_seed", None)
    if config.pluginmanager.hasplugin("randomly") and type(seed) is int:
        return [f"--randomly-seed={seed}"]
    return []


def _options(actions: dict[str, argparse.Action], args: list[str]) -> Iterator[_Option]:
    """Option occurrences in ``args``; positional arguments (paths, node ids) are dropped.

    Tokens pytest would not know stay as they are (as a flag of their own), so nothing
    is silently lost.
    """
    i = 0
    while i < len(args):
        token = str(args[i])
        i += 1
        if token == "--":
            return  # the rest are positional
        if not token.startswith("-") or token == "-":
            continue
        if token.startswith("--"):
            name, eq, attached = token.partition("=")
            action = actions.get(name)
            if action is None:
                yield _Option(token, token, ())
                continue
            if _takes_value(action):
                if eq:
                    yield _Option(name, action.dest, (attached,))
                else:
                    values, i = _take_values(action, args, i)
                    yield _Option(name, action.dest, values)
            else:
                yield _Option(name, action.dest, ())
            continue
        # A cluster of short options: -vx, -kexpr, -p name, -ra.
        position = 1
        while position < len(token):
            spelling = "-" + token[position]
            action = actions.get(spelling)
            if action is None:
                yield _Option(token, token, ())
                break
            position += 1
            if not _takes_value(action):
                yield _Option(spelling, action.dest, ())
                continue
            rest = token[position:]
            if rest:
                yield _Option(spelling, action.dest, (rest[1:] if rest.startswith("=") else rest,))
            else:
                values, i = _take_values(action, args, i)
                yield _Option(spelling, action.dest, values)
            break


def _takes_value(action: argparse.Action) -> bool:
    return action.nargs != 0


def _take_values(action: argparse.Action, args: list[str], i: int) -> tuple[tuple[str, ...], int]:
    if action.nargs in ("*", "+"):
        values = []
        while i < len(args) and not str(args[i]).startswith("-"):
            values.append(str(args[i]))
            i += 1
        return tuple(values), i
    count = action.nargs if isinstance(action.nargs, int) else 1
    return tuple(str(a) for a in args[i : i + count]), i + count


def _spell(action: argparse.Action, spelling: str, values: tuple[str, ...]) -> list[str]:
    """One option as tokens the function's pytest splits the same way.

    ``--long=value`` keeps a value that starts with ``-`` a value; ``-p`` has no long
    form and pytest's plugin pre-scan reads it only as ``-p NAME``.
    """
    if not values:
        return [spelling]
    long = next((s for s in action.option_strings if s.startswith("--")), None)
    if long is not None and len(values) == 1:
        return [f"{long}={values[0]}"]
    return [spelling, *values]


def working_folder(config: pytest.Config) -> str:
    """The folder pytest was started in, relative to the rootdir ("" for the rootdir itself or a
    folder outside it): the function's tests run there, so a path they open relative to the
    working directory means there what it means here."""
    try:
        rel = Path(config.invocation_params.dir).resolve().relative_to(Path(config.rootpath).resolve())
    except ValueError:
        return ""
    return "" if rel == Path(".") else rel.as_posix()


class _PathRewriter:
    """Rewrites option values that name files of this machine to the bundle's copy."""

    def __init__(self, config: pytest.Config) -> None:
        self.root = Path(config.rootpath).resolve()
        self.invocation_dir = Path(config.invocation_params.dir)
        #: Where the function's pytest starts (working_folder): option values are relative to it.
        self.start_dir = self.root / working_folder(config)
        self.ini_dir = Path(config.inipath).parent.resolve() if config.inipath else self.root
        self.ini_types = {name: spec[1] for name, spec in config._parser._inidict.items()}

    def value(self, spelling: str, value: str) -> str:
        """A value that names an existing file or folder is made relative to where the function's
        pytest starts (the rootdir, or the folder below it pytest was started in)."""
        if not value or "://" in value:
            return value
        candidate = Path(value).expanduser()
        path = candidate if candidate.is_absolute() else self.invocation_dir / candidate
        if not os.path.lexists(path):
            return value
        return self._inside(path.resolve(), spelling, value, self.start_dir)

    def ini_override(self, assignment: str) -> str | None:
        """``name=value`` from ``-o``; None for ``addopts`` (it arrives expanded)."""
        name, eq, value = assignment.partition("=")
        if not eq:
            return assignment
        if name.strip() == "addopts":
            return None
        if self.ini_types.get(name.strip()) not in ("paths", "pathlist"):
            return assignment
        parts = []
        for part in shlex.split(value):
            candidate = Path(part).expanduser()
            path = (candidate if candidate.is_absolute() else self.ini_dir / candidate).resolve()
            parts.append(self._inside(path, f"-o {name.strip()}", part, self.ini_dir))
        return f"{name}={shlex.join(parts)}"

    def _inside(self, path: Path, spelling: str, given: str, base: Path) -> str:
        try:
            path.relative_to(self.root)
        except ValueError:
            raise ForwardingProblem(
                f"{spelling} {given!r} points outside the test bundle (rootdir {self.root}): the function only has the "
                f"rootdir's files. Move it inside the rootdir, or leave {spelling} out of the run with --lambda."
            ) from None
        return Path(os.path.relpath(path, base)).as_posix()

"""A warm pytest session per execution environment, fed one test per invocation (issue 16).

``pytest.main()`` per invocation parses the configuration, loads plugins and conftests, runs
``pytest_configure``, collects and sets up session fixtures for every single test. A
:class:`WarmSession` does that once per (bundle, arguments, run) and then runs one item's
protocol per invocation, as a pytest-xdist worker does. Unlike a worker it never knows the
next test, so each test's teardown runs down to the session: module, class and package
fixtures end with the test (their teardown errors land on it); session fixtures stay.

pytest has no public API for driving a session item by item. What this relies on, checked
against pytest 9.2: ``_pytest.config._prepareconfig``, ``Config._do_configure`` and
``Config._ensure_unconfigure`` (what ``pytest.main`` uses), ``Session.from_config``,
``Session._collect_path``, ``Session._setupstate`` and ``_initialpaths``,
``_pytest.runner.collect_one_node`` and ``PytestPluginManager._is_in_confcutdir``.
"""

from __future__ import annotations

import contextlib
import enum
import inspect
import io
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from _pytest.config import _prepareconfig
from _pytest.main import Session
from _pytest.runner import collect_one_node

from lambda_ui.contract import RunEvent

#: ``pytest.main`` exit codes this module answers with.
EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE = 0, 1, 2, 4

#: Options pytest acts on in ``pytest_cmdline_main`` (print and leave, or set other options);
#: a warm session skips that hook, so these keep the per-test path.
_CMDLINE_MAIN_DESTS = ("version", "help", "showfixtures", "show_fixtures_per_test", "markers", "cacheshow", "setuponly", "setupplan", "collectonly")


class Replacement(str, enum.Enum):
    """Why a warm session ends before its environment does."""

    OTHER_RUN = "another bundle, other arguments or another run"
    PER_TEST = "a per-test invocation"
    DEADLINE = "a test stopped by the deadline"
    BROWSER = "a crashed or hung browser"
    UNHEALTHY = "an unhealthy environment"
    BROKEN = "pytest failed inside the session"
    SHUTDOWN = "the environment shuts down"


@dataclass(frozen=True)
class SessionKey:
    """What a warm session is built from: equal keys may share one session."""

    bundle_sha256: str
    pytest_args: tuple[str, ...]
    run_id: str
    artifacts: tuple[str, str]
    #: The variables the client hands its tests (``RunEvent.env``): set before the session starts.
    env: tuple[tuple[str, str], ...] = ()


def key_of(event: RunEvent) -> SessionKey:
    # The run id and destination are in the session's arguments (--lambda-ui-run-id, --lambda-ui-artifacts):
    # another client run gets a session of its own, as it gets new xdist workers.
    return SessionKey(
        event["bundle"]["sha256"], tuple(event["pytest_args"]), event["run_id"], (event["artifacts"]["bucket"], event["artifacts"]["prefix"]),
        tuple(sorted(event["env"].items())),
    )


def replacement(current: SessionKey | None, wanted: SessionKey | None, tainted: Replacement | None) -> Replacement | None:
    """Why the current session must end before the wanted one runs, or None to keep it.

    ``wanted`` is None for a per-test invocation; ``tainted`` says the last test left the
    session in an unknown state.
    """
    if current is None:
        return None
    if tainted is not None:
        return tainted
    if wanted is None:
        return Replacement.PER_TEST
    return None if current == wanted else Replacement.OTHER_RUN


class ProcessState:
    """``os.environ``, ``sys.path`` and the working directory, restored after each test."""

    def __init__(self) -> None:
        self.rebase()

    def rebase(self) -> None:
        """Take the process as it is now as the state to restore."""
        self.environ = dict(os.environ)
        self.path = list(sys.path)
        self.cwd = os.getcwd()

    def restore(self) -> list[str]:
        """Put everything back; returns what had changed, for the log."""
        changed: list[str] = []
        now = dict(os.environ)
        if now != self.environ:
            changed.append("os.environ")
            for name in now.keys() - self.environ.keys():
                del os.environ[name]
            for name, value in self.environ.items():
                if now.get(name) != value:
                    os.environ[name] = value
        if sys.path != self.path:
            changed.append("sys.path")
            sys.path[:] = self.path
        try:
            moved = os.getcwd() != self.cwd
        except OSError:  # the test removed the directory it was in
            moved = True
        if moved:
            changed.append("working directory")
            os.chdir(self.cwd)
        return changed


class _SessionFixtureEffects:
    """What a session-scoped fixture does to the process belongs to the session, as it does
    locally: an ``os.environ`` entry, a ``sys.path`` entry or a working directory it sets while
    the first test sets it up stays for the later tests; the test's own changes are undone."""

    def __init__(self) -> None:
        self.state: ProcessState | None = None

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(self, fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest) -> Iterator[Any]:
        __tracebackhide__ = True  # a fixture's error reads as it does locally, without this frame
        result = yield
        # pytest sets up session fixtures before narrower ones, so only theirs is in the state taken.
        if fixturedef.scope == "session" and self.state is not None:
            self.state.rebase()
        return result


class _Tree:
    """The session's collector tree, kept across invocations.

    pytest 9 binds a conftest's fixtures to the Directory node that first collected it, so
    a second ``perform_collect`` (fresh nodes) loses them. Here every directory is collected
    once and every file once per session; items are looked up by node id.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._path_cache: dict[Path, Sequence[pytest.Collector]] = {}
        self._children: dict[pytest.Collector, list[pytest.Item | pytest.Collector]] = {}
        self._items: dict[str, pytest.Item] = {}
        self._files: dict[Path, list[str]] = {}
        #: A file's skipped collectors (a module that skips itself): said again to each later test of it.
        self._skips: dict[Path, list[pytest.CollectReport]] = {}

    def item(self, nodeid: str, fresh: bool) -> pytest.Item | None:
        """The item for ``nodeid``, collecting its file on first use (again when ``fresh``)."""
        if nodeid in self._items and not fresh:
            return self._items[nodeid]
        path = self.session.config.rootpath / nodeid.split("::", 1)[0]
        if path in self._files and not fresh:
            for rep in self._skips.get(path, []):
                self.session.ihook.pytest_collectreport(report=rep)
            return None  # collected, and not there
        self._collect_file(path)
        return self._items.get(nodeid)

    def _collect_file(self, path: Path) -> None:
        session = self.session
        # A file named by the client counts as named on the command line (python_files aside).
        session._initialpaths = session._initialpaths | {path}
        session._initialpaths_with_parents = session._initialpaths_with_parents | {path, *path.parents}
        chain = [path]
        for parent in path.parents:
            if not session.config.pluginmanager._is_in_confcutdir(parent):
                break
            chain.insert(0, parent)
        nodes: Sequence[pytest.Item | pytest.Collector] = session._collect_path(chain[0], self._path_cache)
        for part in chain[1:]:
            nodes = [child for node in nodes if isinstance(node, pytest.Collector) for child in self._collected(node) if child.path == part]
        failed_before = session.testsfailed
        self._skips[path] = []
        items = [item for node in nodes for item in self._genitems(node, self._skips[path])]
        if session.testsfailed > failed_before:
            return  # a collection error, reported; the next test of this file tries again
        session.config.hook.pytest_collection_modifyitems(session=session, config=session.config, items=items)
        for old in self._files.get(path, []):
            self._items.pop(old, None)
        self._files[path] = [item.nodeid for item in items]
        self._items.update((item.nodeid, item) for item in items)
        session.items = items
        session.testscollected = len(items)
        session.config.hook.pytest_collection_finish(session=session)

    def _collected(self, node: pytest.Collector) -> list[pytest.Item | pytest.Collector]:
        """A directory's children, collected once; a failure is reported and tried again next time."""
        if node not in self._children:
            rep = collect_one_node(node)
            if not rep.passed:
                node.ihook.pytest_collectreport(report=rep)
                return []
            self._children[node] = list(rep.result)
        return self._children[node]

    def _genitems(self, node: pytest.Item | pytest.Collector, skips: list[pytest.CollectReport]) -> Iterator[pytest.Item]:
        if isinstance(node, pytest.Item):
            node.ihook.pytest_itemcollected(item=node)
            yield node
            return
        rep = collect_one_node(node)
        if rep.passed:
            for child in rep.result:
                yield from self._genitems(child, skips)
        elif rep.skipped:
            skips.append(rep)
        node.ihook.pytest_collectreport(report=rep)


class _Output(io.TextIOBase):
    """pytest's terminal output: kept for the current invocation's answer and printed to the log.

    Capture and the terminal reporter hold on to the stream they found at configure time,
    so the session keeps one stream and each invocation empties its buffer.
    """

    def __init__(self, log: Any) -> None:
        self.buffer_text = io.StringIO()
        self._log = log

    def write(self, text: str) -> int:
        self.buffer_text.write(text)
        self._log.write(text)
        return len(text)

    def flush(self) -> None:
        self._log.flush()

    def take(self) -> str:
        text = self.buffer_text.getvalue()
        self.buffer_text = io.StringIO()
        return text


class WarmSession:
    """One configured pytest session that runs the tests it is given, one per call.

    Build it with :meth:`start`; it stays until :meth:`end`.
    """

    def __init__(self, key: SessionKey, config: pytest.Config, output: _Output, bundle: Path) -> None:
        self.key = key
        self.config = config
        self.output = output
        self.bundle = bundle
        self.session: Session | None = None
        self._tree: _Tree | None = None
        self._ran: set[str] = set()
        self.started_ms = 0.0
        self.tests = 0
        self.ended: Replacement | None = None
        self._effects = _SessionFixtureEffects()

    @classmethod
    def start(cls, key: SessionKey, args: list[str], plugins: list[object], bundle: Path) -> WarmSession | None:
        """Configure pytest and start the session; None when the arguments need ``pytest.main``.

        Usage errors raise ``pytest.UsageError`` as ``pytest.main`` reports them.
        """
        began = time.perf_counter()
        output = _Output(sys.stdout)
        with _redirected(output):
            # As python -m pytest at the rootdir does, before the arguments are read: a `-p`
            # module of the repository imports then. Kept for the session's lifetime.
            sys.path.insert(0, str(bundle))
            try:
                config = _prepareconfig(args, plugins)
            except BaseException:
                _forget_path(bundle)
                raise
            if any(getattr(config.option, dest, False) for dest in _CMDLINE_MAIN_DESTS):
                config._ensure_unconfigure()
                _forget_path(bundle)
                return None
            warm = cls(key, config, output, bundle)
            try:
                config.pluginmanager.register(warm._effects, "lambda-ui-session-fixture-effects")
                config._do_configure()
                session = Session.from_config(config)
                session.exitstatus = pytest.ExitCode.OK
                warm.session = session
                config.hook.pytest_sessionstart(session=session)
            except BaseException:
                warm._finish()
                raise
            warm._tree = _Tree(session)
            warm._stdin(captured=False)
        warm.started_ms = (time.perf_counter() - began) * 1000
        return warm

    def run(self, nodeid: str) -> int:
        """Run one test's whole protocol and answer with pytest's exit code for it."""
        session, tree = self.session, self._tree
        assert session is not None and tree is not None
        self.tests += 1
        session.testsfailed = 0
        session.shouldfail = session.shouldstop = False
        with _redirected(self.output), self._stdin_captured():
            item = tree.item(nodeid, fresh=nodeid in self._ran)
            if session.testsfailed:
                return EXIT_INTERRUPTED  # collection errors; the reports are in the answer
            if item is None:
                sys.stderr.write(f"ERROR: not found: {nodeid}\n")
                return EXIT_USAGE
            self._ran.add(nodeid)  # a rerun here gets a fresh item: fixtures and stash of its own
            state = self._effects.state = ProcessState()
            try:
                with _test_loop_logging(self.config, session):
                    # The session as the next item: teardown stops above it, session fixtures stay.
                    item.ihook.pytest_runtest_protocol(item=item, nextitem=cast(pytest.Item, session))
            finally:
                self._effects.state = None
                state.restore()
        return EXIT_FAILED if session.testsfailed else EXIT_OK

    def _stdin(self, captured: bool) -> None:
        """pytest's global capture holds stdin (fd 0 on /dev/null) from configure to unconfigure.

        Between invocations the process is the runtime's again: stdin is given back, and
        taken again for the next test, as a whole pytest.main would.
        """
        capman = self.config.pluginmanager.getplugin("capturemanager")
        if capman is None:
            return
        if captured:
            capman.resume_global_capture()
            capman.suspend_global_capture(in_=False)
        else:
            capman.suspend_global_capture(in_=True)

    @contextlib.contextmanager
    def _stdin_captured(self) -> Iterator[None]:
        self._stdin(captured=True)
        try:
            yield
        finally:
            self._stdin(captured=False)

    def take_output(self) -> str:
        return self.output.take()

    def end(self, reason: Replacement) -> None:
        """Tear down session fixtures, ``pytest_sessionfinish``, ``pytest_unconfigure``. Idempotent."""
        if self.ended is not None:
            return
        self.ended = reason
        with _redirected(self.output):
            self._finish()

    def _finish(self) -> None:
        session = self.session
        try:
            if session is not None:
                try:
                    # A session fixture's teardown error has no test left to land on: log it.
                    session._setupstate.teardown_exact(None)
                except Exception as exc:
                    sys.stderr.write(f"lambda-ui: session fixture teardown failed: {type(exc).__name__}: {exc}\n")
                try:
                    self.config.hook.pytest_sessionfinish(session=session, exitstatus=session.exitstatus)
                except Exception as exc:
                    sys.stderr.write(f"lambda-ui: pytest_sessionfinish failed: {type(exc).__name__}: {exc}\n")
        finally:
            try:
                self.config._ensure_unconfigure()
            except Exception as exc:  # the next session, and the test it serves, must still start
                sys.stderr.write(f"lambda-ui: pytest_unconfigure failed: {type(exc).__name__}: {exc}\n")
            finally:
                _forget_path(self.bundle)


@contextlib.contextmanager
def _test_loop_logging(config: pytest.Config, session: pytest.Session) -> Iterator[None]:
    """What pytest's logging plugin sets up around its whole test loop, around one test.

    Its ``pytest_runtestloop`` wrapper lowers the root logger to ``log_cli_level`` (and
    ``log_file_level``) with their handlers: without it a warm session, which runs no loop,
    captured no INFO record of a suite with ``log_cli_level = INFO`` (a per-test session and a
    local run do). The wrapper itself runs, so whatever it sets up is what pytest sets up.
    """
    wrapper = getattr(config.pluginmanager.get_plugin("logging-plugin"), "pytest_runtestloop", None)
    if wrapper is None or not inspect.isgeneratorfunction(wrapper):
        yield
        return
    loop = wrapper(session)
    next(loop)
    try:
        yield
    finally:
        with contextlib.suppress(StopIteration):
            loop.send(None)


class _redirected:
    """stdout and stderr into the session's output for a while."""

    def __init__(self, output: _Output) -> None:
        self._output = output
        self._saved: tuple[Any, Any] = (None, None)

    def __enter__(self) -> None:
        self._saved = (sys.stdout, sys.stderr)
        sys.stdout = sys.stderr = self._output

    def __exit__(self, *exc: object) -> None:
        sys.stdout, sys.stderr = self._saved


def _forget_path(bundle: Path) -> None:
    """Take the bundle's root off ``sys.path``, every copy of it."""
    while str(bundle) in sys.path:
        sys.path.remove(str(bundle))

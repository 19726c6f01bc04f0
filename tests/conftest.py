from __future__ import annotations

import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import boto3
import psutil
import pytest

from lambda_ui.runner.constants import ENV_CHROME_BINARY
from stand_ins.services import AWS_TEST_ENV, LoopbackS3

pytest_plugins = ["pytester"]

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: Tests under these folders get the marker, so `-m "not e2e"` selects by folder.
FOLDER_MARKERS = {"e2e": "e2e"}

#: With this set to 1, a test that starts Chromium or chromedriver errors (see BrowserWatch).
ENV_FORBID_BROWSER = "TESTS_FORBID_BROWSER"

#: Process names of a browser, as psutil reports them (Debian's /usr/bin/chromium is a script).
BROWSER_NAMES = ("chromium", "chrome", "chromedriver", "headless_shell")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test by its tier folder (tests/e2e/...), whatever its module says."""
    tests_root = Path(__file__).parent
    for item in items:
        try:
            folder = item.path.relative_to(tests_root).parts[0]
        except ValueError:
            continue  # pytester's own temporary suites
        if marker := FOLDER_MARKERS.get(folder):
            item.add_marker(marker)


class BrowserWatch:
    """Polls this process's descendants and remembers each browser process it sees.

    Chrome needs far longer than one poll interval to start, so a test that starts one
    (in-process, or in a pytester subprocess, or via a local Lambda) is seen."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.seen: dict[int, str] = {}
        self._me = psutil.Process()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="browser-watch", daemon=True)

    def start(self) -> BrowserWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def pids(self) -> set[int]:
        """Every browser process seen so far, after one more look."""
        self.scan()
        with self._lock:
            return set(self.seen)

    def scan(self) -> None:
        try:
            children = self._me.children(recursive=True)
        except psutil.Error:
            return
        for proc in children:
            try:
                name = proc.name().lower()
                if any(name.startswith(n) for n in BROWSER_NAMES):
                    with self._lock:
                        self.seen.setdefault(proc.pid, " ".join(proc.cmdline())[:160] or name)
            except psutil.Error:
                continue

    def _run(self) -> None:
        while not self._stop.wait(self.interval):  # the poll interval, not a synchronisation
            self.scan()


WATCH_KEY = pytest.StashKey[BrowserWatch]()
BEFORE_KEY = pytest.StashKey[set[int]]()


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get(ENV_FORBID_BROWSER) == "1":
        config.stash[WATCH_KEY] = BrowserWatch().start()


def pytest_unconfigure(config: pytest.Config) -> None:
    if watch := config.stash.get(WATCH_KEY, None):
        watch.stop()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before any fixture of the test is made, module- and session-scoped ones included."""
    if watch := item.config.stash.get(WATCH_KEY, None):
        item.stash[BEFORE_KEY] = watch.pids()  # one an earlier test left running is not this test's


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Under TESTS_FORBID_BROWSER=1, a test that started a browser (in its own fixtures or in
    shared ones it set up or tore down) errors in its teardown: it needs the `e2e` marker."""
    result = yield
    watch = item.config.stash.get(WATCH_KEY, None)
    if watch is not None and not item.get_closest_marker("e2e"):
        if started := watch.pids() - item.stash.get(BEFORE_KEY, set()):
            listing = "\n  ".join(f"{pid}: {watch.seen[pid]}" for pid in sorted(started))
            pytest.fail(f"this test started a browser but is not marked e2e:\n  {listing}", pytrace=False)
    return result



#: Installed for the tests of suites built on them (pytest-selenium brings the rest along), and
#: loaded by every pytest that starts here unless told not to: importing them (selenium's whole
#: WebDriver, jinja2) cost 0.31 of a pytest subprocess's 0.65 CPU-s, and a run starts ~530.
THIRD_PARTY_PLUGINS = ("pytest-selenium", "pytest-html", "pytest-metadata", "pytest-variables", "pytest-base-url")


def _blocking_options(distributions: tuple[str, ...]) -> str:
    blocked = []
    for name in distributions:
        try:
            points = metadata.distribution(name).entry_points
        except metadata.PackageNotFoundError:
            continue
        blocked += [f"-p no:{point.name}" for point in points if point.group == "pytest11"]
    return " ".join(blocked)


BLOCK_THIRD_PARTY_PLUGINS = _blocking_options(THIRD_PARTY_PLUGINS)


def _with_block(addopts: str) -> str:
    return addopts if BLOCK_THIRD_PARTY_PLUGINS in addopts else f"{addopts} {BLOCK_THIRD_PARTY_PLUGINS}".strip()


def _wants_third_party_plugins(node: pytest.Item | pytest.Collector) -> bool:
    return node.get_closest_marker("third_party_plugins") is not None


@pytest.fixture(scope="module", autouse=True)
def _module_without_third_party_plugins(request: pytest.FixtureRequest) -> Iterator[None]:
    """Module-scoped fixtures start their pytest runs before any function fixture is set up,
    so the options are in place for the whole module first, unless the module is marked."""
    if _wants_third_party_plugins(request.node) or not BLOCK_THIRD_PARTY_PLUGINS:
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTEST_ADDOPTS", _with_block(os.environ.get("PYTEST_ADDOPTS", "")))
        yield


@pytest.fixture(autouse=True)
def _without_third_party_plugins(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pytest runs a test starts (pytester's, subprocesses, a --lambda client and what it
    forwards to the function) leave out THIRD_PARTY_PLUGINS unless the test is marked
    `third_party_plugins`, as a suite that does not use them runs."""
    if not BLOCK_THIRD_PARTY_PLUGINS:
        return
    if "pytester" in request.fixturenames:
        request.getfixturevalue("pytester")  # it clears PYTEST_ADDOPTS as it starts
    addopts = os.environ.get("PYTEST_ADDOPTS", "")
    if not _wants_third_party_plugins(request.node):
        monkeypatch.setenv("PYTEST_ADDOPTS", _with_block(addopts))
    elif BLOCK_THIRD_PARTY_PLUGINS in addopts:  # a marked test in a module that is not
        monkeypatch.setenv("PYTEST_ADDOPTS", addopts.replace(BLOCK_THIRD_PARTY_PLUGINS, "").strip())


#: Debian's chrome-headless-shell, which scripts/setup.sh installs where apt has it. Tests marked
#: `headless_shell` run their browsers on it: the runner supports it as a second browser, and it
#: spends about a third of Chrome's CPU to start and two thirds per navigation (docs/benchmarks.md).
#: Unmarked tests run the default, full Chrome, as users do.
HEADLESS_SHELL = shutil.which("chromium-headless-shell")
needs_headless_shell = pytest.mark.skipif(
    HEADLESS_SHELL is None, reason="chromium-headless-shell is not installed (scripts/setup.sh installs it where apt has it)"
)


def _shell_for(node: pytest.Item | pytest.Collector) -> str | None:
    """The binary a marked test's browsers get; none when a developer chose one ($CHROME_BINARY)."""
    if node.get_closest_marker("headless_shell") is None or os.environ.get(ENV_CHROME_BINARY):
        return None
    return HEADLESS_SHELL


def pytest_report_header(config: pytest.Config) -> str:
    browser = HEADLESS_SHELL or "full Chrome (chromium-headless-shell is not installed)"
    return f"tests marked headless_shell run on: {browser}"


@pytest.fixture(scope="module", autouse=True)
def _module_on_headless_shell(request: pytest.FixtureRequest) -> Iterator[None]:
    """A marked module's stand-ins (a local Lambda, its environments) start before any function
    fixture, so the browser is chosen for the whole module first."""
    binary = _shell_for(request.node)
    if binary is None:
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ENV_CHROME_BINARY, binary)
        yield


@pytest.fixture(autouse=True)
def _test_on_headless_shell(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A marked test in an unmarked module: the browsers its own runs start (not those of the
    module's stand-ins, which started earlier)."""
    if binary := _shell_for(request.node):
        monkeypatch.setenv(ENV_CHROME_BINARY, binary)


@pytest.fixture(autouse=True)
def _fresh_boto3_default_session() -> Iterator[None]:
    """boto3's default session keeps the credentials it resolved first: a test that set AWS_*
    variables (monkeypatch restores them) would hand its credentials to later tests in this
    worker (seen: test_doctor_checks then test_smoke, 403 from the local Lambda)."""
    yield
    boto3.DEFAULT_SESSION = None

@pytest.fixture(scope="session")
def loopback_s3() -> Iterator[LoopbackS3]:
    server = LoopbackS3.start()
    yield server
    server.stop()


@pytest.fixture
def s3_env(loopback_s3: LoopbackS3, monkeypatch: pytest.MonkeyPatch) -> LoopbackS3:
    """Point boto3 (here and in pytester subprocesses) at the loopback S3."""
    for name, value in AWS_TEST_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", loopback_s3.endpoint)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return loopback_s3


@pytest.fixture
def bucket(s3_env: LoopbackS3) -> str:
    name = f"artifacts-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_env.endpoint).create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_client(s3_env: LoopbackS3):  # noqa: ANN201 - boto3 client type
    return boto3.client("s3", endpoint_url=s3_env.endpoint)


@pytest.fixture
def run_tmpdir(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A TMPDIR of one run's own, which marks its browser processes (see tests/support/procs.py).
    Short, because Chrome's socket paths must fit in 108 bytes."""
    path = tempfile.mkdtemp(prefix="run-", dir="/tmp")
    monkeypatch.setenv("TMPDIR", path)
    yield path
    shutil.rmtree(path, ignore_errors=True)

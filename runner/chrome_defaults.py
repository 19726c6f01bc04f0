"""Chrome that a suite starts itself: options for the current environment, and the
defaults the function fills in for it.

``chrome_options()`` and ``chrome_service()`` are public, for conftests that build
their own driver. ``SuiteChromeDefaults`` is the in-Lambda part: for the length of
one pytest session it wraps ``webdriver.Chrome.__init__`` (the class itself, so
``webdriver.Chrome()``, pytest-selenium's ``--driver Chrome`` and subclasses are all
covered) and fills in what the test did not set: the environment's Chrome, the
chromedriver path (so Selenium Manager is never asked to find or download one;
webdriver-manager's ``ChromeDriverManager().install()`` returns it too), and the
Lambda flags. Each such Chrome gets a private directory under the temp
dir (its HOME), removed with its processes when the driver quits or the session
ends; its downloads still go to the test's ``~/Downloads``, as they do locally, and a
profile folder the suite names where the function cannot write gives way to a private one.
"""

from __future__ import annotations

import atexit
import copy
import gc
import importlib.util
import os
import shutil
import signal
import sys
import tempfile
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import psutil
import pytest
from selenium.webdriver import ChromeOptions
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver as ChromeDriver
from selenium.webdriver.remote.webdriver import WebDriver as RemoteDriver

from lambda_ui.runner.chrome import (
    CHROME_DIR_PREFIX,
    chrome_flags,
    command_timeout,
    find_chrome_binary,
    find_chromedriver,
    kill_all,
    kill_marked,
    name_the_shell,
    own_launch,
    parse_window_size,
)
from lambda_ui.runner.constants import DEFAULT_WINDOW_SIZE
from lambda_ui.runner.options import remote_chrome

#: Private directories of a suite's own Chromes. They share the warm browser's prefix,
#: so the health check at the start of each invocation also clears any left behind.
SUITE_DIR_PREFIX = CHROME_DIR_PREFIX + "suite-"
INI_KEY = "lambda_chrome_defaults"

_made_by_chrome_options: list[str] = []


def remote_chrome_options(options: object) -> ChromeOptions | None:
    """The Chrome options of a ``webdriver.Remote`` session, or None when it asks for another browser."""
    if isinstance(options, ChromeOptions):
        return options
    capabilities = dict(getattr(options, "capabilities", None) or {})
    if str(capabilities.pop("browserName", "")).lower() != "chrome":
        return None
    chrome = ChromeOptions()
    for name, value in capabilities.items():
        chrome.set_capability(name, value)
    return chrome


def flag_name(argument: str) -> str:
    """``--window-size=800,600`` -> ``--window-size``: flags are compared by name."""
    return argument.split("=", 1)[0]


#: Flags chromedriver merges from every occurrence: the suite's list and ours both count.
MERGED_FLAGS = frozenset({"--disable-features"})


def missing_flags(given: list[str], defaults: list[str]) -> list[str]:
    """The defaults whose name the given arguments do not already use (a merged flag: always)."""
    taken = {flag_name(argument) for argument in given}
    return [flag for flag in defaults if flag_name(flag) in MERGED_FLAGS or flag_name(flag) not in taken]


def _new_workdir(tmp_root: str | None) -> str:
    return tempfile.mkdtemp(prefix=SUITE_DIR_PREFIX, dir=tmp_root)


def _default_flags(workdir: str, window_size: tuple[int, int], environ: Mapping[str, str] | None) -> list[str]:
    return chrome_flags(os.path.join(workdir, "profile"), window_size, True, environ, scratch_dir=workdir)


def chrome_options(
    *,
    headless: bool = True,
    window_size: tuple[int, int] | None = None,
    environ: Mapping[str, str] | None = None,
    tmp_root: str | None = None,
) -> ChromeOptions:
    """ChromeOptions for this environment (local/CI or Lambda), as the plugin's own browser uses.

    The binary is found as for the ``browser`` fixture ($CHROME_BINARY, then PATH), and
    the profile is a fresh private directory under the temp dir, removed when the
    driver quits inside the function, else when the process exits.
    """
    size = window_size or parse_window_size(DEFAULT_WINDOW_SIZE)
    workdir = _new_workdir(tmp_root)
    if not _made_by_chrome_options:
        atexit.register(_remove_dirs, _made_by_chrome_options)
    _made_by_chrome_options.append(workdir)
    options = ChromeOptions()
    options.binary_location = find_chrome_binary(environ)
    name_the_shell(options)
    for flag in chrome_flags(os.path.join(workdir, "profile"), size, headless, environ, scratch_dir=workdir):
        options.add_argument(flag)
    return options


def chrome_service(*, environ: Mapping[str, str] | None = None, **kwargs: Any) -> Service:
    """A chromedriver Service with the located chromedriver ($CHROMEDRIVER, then PATH).

    With an explicit path Selenium never runs Selenium Manager. ``kwargs`` go to ``Service``.
    """
    return Service(executable_path=find_chromedriver(environ), **kwargs)


def _remove_dirs(paths: list[str]) -> None:
    for path in paths:
        shutil.rmtree(path, ignore_errors=True)


def _owned_dir(arguments: list[str]) -> str | None:
    """The suite directory a ``--user-data-dir`` from ``chrome_options()`` lives in, if any."""
    for argument in arguments:
        if flag_name(argument) == "--user-data-dir":
            parent = os.path.dirname(argument.split("=", 1)[-1].rstrip("/"))
            if os.path.basename(parent).startswith(SUITE_DIR_PREFIX):
                return parent
    return None


@dataclass
class SuiteLaunch:
    """One Chrome a suite started, and what to remove when it ends.

    ``workdir`` is a directory made for it (by the defaults or by ``chrome_options()``);
    every process of that Chrome mentions it, so it also finds strays to kill.
    """

    workdir: str | None
    driver_pid: int | None = None
    #: Started while a session-scoped fixture was being set up: it lives as long as the session.
    session_owned: bool = False
    #: What the defaults replaced that the suite had set, said in the answer's warnings.
    notes: list[str] = field(default_factory=list)
    finished: bool = field(default=False, repr=False)
    #: Weak: whether anything but this record still holds the driver is what tells a test's
    #: forgotten Chrome from one the suite keeps for later tests.
    _driver: weakref.ref[Any] | None = field(default=None, repr=False)

    @property
    def driver(self) -> Any:
        return self._driver() if self._driver is not None else None

    @driver.setter
    def driver(self, driver: Any) -> None:
        self._driver = weakref.ref(driver)

    def descendants(self) -> list[psutil.Process]:
        """chromedriver's process tree now, before a quit scatters it to the subreaper."""
        if self.driver_pid is None:
            return []
        try:
            return psutil.Process(self.driver_pid).children(recursive=True)
        except psutil.Error:
            return []

    def finish(self, tree: list[psutil.Process]) -> None:
        """Kill what is left of this Chrome and remove its directory."""
        if self.finished:
            return
        self.finished = True
        kill_all(tree)
        if self.driver_pid is not None:
            _kill_group(self.driver_pid)
        if self.workdir:
            kill_marked(self.workdir)
            shutil.rmtree(self.workdir, ignore_errors=True)


def _kill_group(leader_pid: int) -> None:
    """Kill chromedriver's process group (a session of its own, see ``prepare_launch``) and reap it."""
    try:
        os.killpg(leader_pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # gone already, or not a group leader: the test chose its own popen_kw
    try:
        os.waitpid(leader_pid, os.WNOHANG)
    except ChildProcessError:
        pass


def prepare_launch(
    options: ChromeOptions | None,
    service: Service | None,
    environ: Mapping[str, str] | None = None,
    tmp_root: str | None = None,
    window_size: tuple[int, int] | None = None,
    extra_flags: list[str] | None = None,
) -> tuple[ChromeOptions, Service, SuiteLaunch]:
    """Fill in what a suite's ``webdriver.Chrome(...)`` call left unset; keep what it set.

    ``extra_flags`` join the environment's defaults (``--single-process`` once the warm
    browser needed it); like them, each is added only when the suite did not set that flag.
    The options are copied (a suite may reuse one object for several drivers); the
    service is single-use and is completed in place.
    """
    size = window_size or parse_window_size(DEFAULT_WINDOW_SIZE)
    filled = copy.deepcopy(options) if options is not None else ChromeOptions()
    service = service if service is not None else Service()
    notes: list[str] = []
    # A path the suite names for its CI machine's Chrome or chromedriver, which this
    # environment lacks: the environment's own run instead, and the answer says so.
    if filled.binary_location and shutil.which(filled.binary_location) is None:
        located = find_chrome_binary(environ)
        notes.append(f"the suite's Chrome binary {filled.binary_location} is not in the function; its own {located} ran instead")
        filled.binary_location = located
    elif not filled.binary_location:
        filled.binary_location = find_chrome_binary(environ)
    name_the_shell(filled)
    if service.path and shutil.which(service.path) is None:
        located = find_chromedriver(environ)
        notes.append(f"the suite's chromedriver {service.path} is not in the function; its own {located} ran instead")
        service.path = located
    elif not service.path:
        # An explicit path is what keeps Selenium Manager out (selenium's DriverFinder).
        service.path = find_chromedriver(environ)

    _drop_unwritable_profile(filled, notes)
    workdir = _new_workdir(tmp_root)
    defaults = _default_flags(workdir, size, environ) + list(extra_flags or [])
    if filled.extensions:
        defaults = [flag for flag in defaults if flag != "--disable-extensions"]
    added = missing_flags(filled.arguments, defaults)
    for flag in added:
        filled.add_argument(flag)
    if not any(workdir in flag for flag in added):
        os.rmdir(workdir)  # the test named every directory itself
        workdir = _owned_dir(filled.arguments) or ""
    elif service.env is os.environ:
        # Crash databases and fontconfig caches follow HOME; keep them in the private dir.
        service.env = dict(os.environ, HOME=workdir, XDG_CONFIG_HOME=os.path.join(workdir, ".config"), XDG_CACHE_HOME=os.path.join(workdir, ".cache"))
        _download_where_the_test_looks(filled)
    if not service.popen_kw:
        service.popen_kw = {"start_new_session": True}  # a process group of its own to kill
    return filled, service, SuiteLaunch(workdir=workdir or None, notes=notes)


def _writable(path: str) -> bool:
    """``path`` can be written, or made, here: its nearest existing folder takes writes
    (``access`` answers no on a read-only file system, for root too)."""
    folder = os.path.abspath(path)
    while not os.path.exists(folder):
        parent = os.path.dirname(folder)
        if parent == folder:
            return False
        folder = parent
    return os.access(folder, os.W_OK)


def _drop_unwritable_profile(options: ChromeOptions, notes: list[str]) -> None:
    """A ``--user-data-dir`` the suite names for its CI machine (``/var/lib/ci-profile``) where
    only /tmp is writable: Chrome would not start ("cannot create default profile directory").
    The flag goes, so the environment's private profile takes its place, and the answer says so."""
    for argument in list(options.arguments):
        name, _, path = argument.partition("=")
        if name == "--user-data-dir" and path and not _writable(path):
            options.arguments.remove(argument)
            notes.append(f"the suite's Chrome profile folder {path} cannot be written in the function (only /tmp is); a fresh one in /tmp was used")


def _download_where_the_test_looks(options: ChromeOptions) -> None:
    """Chrome's default download folder follows its HOME, now the private dir. Locally
    Chrome and the test share HOME, so a test that clicks a download and reads
    ``~/Downloads`` finds the file: keep that, unless the suite chose a folder itself."""
    prefs = options.experimental_options.get("prefs")
    if prefs is None:
        prefs = {}
        options.add_experimental_option("prefs", prefs)
    if type(prefs) is not dict or "download.default_directory" in prefs:
        return
    nested = prefs.get("download")
    if type(nested) is dict and "default_directory" in nested:
        return
    prefs["download.default_directory"] = os.path.join(os.path.expanduser("~"), "Downloads")


def _pid_of(service: Service) -> int | None:
    process = getattr(service, "process", None)
    return process.pid if process is not None else None


class SuiteChromeDefaults:
    """The in-function defaults for a suite's own Chrome, as a pytest plugin.

    The handler adds it to each in-Lambda session; it wraps ``webdriver.Chrome`` from
    ``pytest_configure`` (unless the ini key ``lambda_chrome_defaults`` is false) until
    ``pytest_unconfigure``, which also stops every suite Chrome still running.
    """

    def __init__(self, tmp_root: str | None = None, environ: Mapping[str, str] | None = None, window_size: tuple[int, int] | None = None) -> None:
        self.tmp_root = tmp_root
        self.environ = environ
        self.window_size = window_size
        #: Added to the defaults; the handler sets ``--single-process`` here after its own Chrome needed it.
        self.extra_flags: list[str] = []
        self.launches: list[SuiteLaunch] = []
        #: Said in the next answer's warnings, once each (:meth:`take_notes`).
        self.notes: list[str] = []
        self._original: Any = None
        self._original_remote: Any = None
        #: webdriver-manager's ChromeDriverManager and its own install, while replaced.
        self._original_manager: tuple[Any, Any] | None = None
        self._session_fixture_depth = 0
        self._tests_running = 0

    @property
    def installed(self) -> bool:
        return self._original is not None

    def take_notes(self) -> list[str]:
        notes, self.notes = self.notes, []
        return notes

    def pytest_configure(self, config: pytest.Config) -> None:
        if config.getini(INI_KEY):
            self.install(remote=remote_chrome(config) == "function")

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.uninstall()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Any:
        # A Chrome started outside any test (a module that builds its driver when imported,
        # a conftest's pytest_configure) lives as long as the session, as locally.
        self._tests_running += 1
        try:
            return (yield)
        finally:
            self._tests_running -= 1

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(self, fixturedef: pytest.FixtureDef[Any]) -> Any:
        # A Chrome started by a session fixture's setup belongs to the session (warm sessions
        # keep it across tests); any other started during a test belongs to that test.
        __tracebackhide__ = True  # a fixture's error is the suite's: this frame is not part of it
        session_scoped = fixturedef.scope == "session"
        self._session_fixture_depth += session_scoped
        try:
            return (yield)
        finally:
            self._session_fixture_depth -= session_scoped

    def install(self, remote: bool = False) -> None:
        """Wrap ``webdriver.Chrome``; with ``remote``, also ``webdriver.Remote`` sessions for Chrome."""
        if self.installed:
            return
        if remote:
            self._install_remote()
        original = ChromeDriver.__dict__["__init__"]
        defaults = self

        def __init__(driver: ChromeDriver, options: ChromeOptions | None = None, service: Service | None = None, keep_alive: bool = True) -> None:
            if own_launch.get():
                original(driver, options=options, service=service, keep_alive=keep_alive)
                return
            filled, service, launch = prepare_launch(options, service, defaults.environ, defaults.tmp_root, defaults.window_size, defaults.extra_flags)
            launch.session_owned = defaults._session_fixture_depth > 0 or defaults._tests_running == 0
            defaults.launches.append(launch)
            defaults.notes.extend(note for note in launch.notes if note not in defaults.notes)
            try:
                original(driver, options=filled, service=service, keep_alive=keep_alive)
            except BaseException:
                launch.driver_pid = _pid_of(service)
                launch.finish(launch.descendants())
                raise
            launch.driver_pid = _pid_of(service)
            launch.driver = driver
            defaults._wrap_quit(driver, launch)

        __init__.__wrapped__ = original  # type: ignore[attr-defined]
        ChromeDriver.__init__ = __init__  # type: ignore[method-assign, assignment]  # a patch: its first parameter is not named self
        self._original = original
        self._install_driver_manager()

    def _install_driver_manager(self) -> None:
        """webdriver-manager, when the image has it: ``ChromeDriverManager().install()`` returns
        the environment's chromedriver instead of downloading one for whatever Chrome it finds
        on PATH (none in the image; a driver of another version cannot start this Chrome)."""
        if importlib.util.find_spec("webdriver_manager") is None:
            return
        try:
            manager: Any = importlib.import_module("webdriver_manager.chrome").ChromeDriverManager
        except Exception:
            return  # a broken install is the suite's to find, as it would locally
        original = manager.__dict__.get("install")
        environ = self.environ

        def install(_manager: Any) -> str:
            return find_chromedriver(environ)

        install.__wrapped__ = original  # type: ignore[attr-defined]
        manager.install = install
        self._original_manager = (manager, original)

    def _install_remote(self) -> None:
        original = RemoteDriver.__dict__["__init__"]

        def __init__(driver: RemoteDriver, command_executor: Any = "http://127.0.0.1:4444", *args: Any, **kwargs: Any) -> None:
            # Only webdriver.Remote itself: webdriver.Chrome and friends call this too, for their own driver.
            chrome = remote_chrome_options(kwargs.get("options")) if type(driver) is RemoteDriver else None
            if chrome is None:
                original(driver, command_executor, *args, **kwargs)
                return
            # The Grid's Chrome becomes the function's: the driver is a webdriver.Chrome (still a
            # webdriver.Remote to the suite), with the defaults, the tracking and the cleanup above.
            driver.__class__ = ChromeDriver
            ChromeDriver.__init__(cast(ChromeDriver, driver), options=chrome, keep_alive=kwargs.get("keep_alive", True))

        __init__.__wrapped__ = original  # type: ignore[attr-defined]
        RemoteDriver.__init__ = __init__  # type: ignore[method-assign, assignment]  # a patch, as above
        self._original_remote = original

    def _wrap_quit(self, driver: ChromeDriver, launch: SuiteLaunch) -> None:
        quit_driver = driver.quit

        def quit() -> None:
            tree = launch.descendants()
            try:
                quit_driver()
            finally:
                launch.finish(tree)

        driver.quit = quit  # type: ignore[method-assign]

    def uninstall(self) -> None:
        """Restore ``webdriver.Chrome`` and stop every suite Chrome the session left running."""
        if self._original is not None:
            ChromeDriver.__init__ = self._original  # type: ignore[method-assign]
            self._original = None
        if self._original_remote is not None:
            RemoteDriver.__init__ = self._original_remote  # type: ignore[method-assign]
            self._original_remote = None
        if self._original_manager is not None:
            manager, original = self._original_manager
            if original is None:
                del manager.install
            else:
                manager.install = original
            self._original_manager = None
        launches, self.launches = self.launches, []
        _stop(launches)

    def stop_test_launches(self) -> None:
        """After a test of a warm session: stop the suite Chromes nothing holds any more.

        A per-test session stops them at its end; a warm one would pile them up, one per
        test that forgot ``quit()``, until the environment runs out of memory. A driver
        the suite still holds (a module's shared driver made by the first test that needs
        it, pytest-splinter's browser pool) serves the next tests, as it does locally.
        """
        running = [launch for launch in self.launches if not launch.finished]
        if any(not launch.session_owned for launch in running):
            _forget_last_failure()
            gc.collect()  # a forgotten driver sits in reference cycles of its own (selenium's helpers)
        ended = [launch for launch in running if not launch.session_owned and launch.driver is None]
        self.launches = [launch for launch in running if all(launch is not other for other in ended)]
        _stop(ended)


def _forget_last_failure() -> None:
    """pytest keeps a failed test's exception for post-mortem debugging (``sys.last_value``);
    its traceback's frames would hold the test's driver until the next failure."""
    for name in ("last_type", "last_value", "last_traceback", "last_exc"):
        if hasattr(sys, name):
            delattr(sys, name)


def _stop(launches: list[SuiteLaunch]) -> None:
    """Quit each unfinished launch politely (5 s at most), then kill what is left and remove its directory."""
    for launch in launches:
        if launch.finished:
            continue
        tree = launch.descendants()
        driver = launch.driver
        if driver is not None:
            try:
                with command_timeout(driver, 5):
                    driver.quit()
            except Exception:
                pass  # a crashed or hung browser; the kill below still runs
        launch.finish(tree)

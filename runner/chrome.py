"""Find, start and reliably stop headless Chrome with chromedriver.

One :class:`ChromeProcess` is one chromedriver plus the browser it started.
Teardown does not trust ``driver.quit()`` alone: Chrome's crashpad handlers
detach into sessions of their own and outlive a polite quit (the "zombie
crashpad" failure users of Chrome-on-Lambda report), so every process is also
found by its private temporary directory and killed.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lambda_ui.runner.constants import (
    CHROME_CANDIDATES,
    CHROMEDRIVER_CANDIDATES,
    ENV_CHROME_BINARY,
    ENV_CHROMEDRIVER,
    INSTALL_HINT,
)

if TYPE_CHECKING:
    # Imported where used: the option parsers and locate_chrome load this module in
    # every pytest run, and selenium costs ~0.4 s there (psutil some ms) for nothing.
    import psutil
    from selenium import webdriver

log = logging.getLogger(__name__)

#: Every private Chrome directory starts with this, so the in-Lambda health check
#: (lambda_pkg/health.py) finds the ones a crashed or careless session left behind.
CHROME_DIR_PREFIX = "lambda-ui-chrome-"

#: Set while the plugin starts its own browser, so that the defaults for a suite's
#: own Chrome (runner/chrome_defaults.py) leave that launch alone.
own_launch: ContextVar[bool] = ContextVar("lambda_ui_own_launch", default=False)


class ChromeNotFound(Exception):
    """Chrome or chromedriver could not be located; the message says how to fix it."""


@dataclass(frozen=True)
class ChromeLocation:
    binary: str
    driver: str


def _resolve(explicit: list[tuple[str, str | None]], candidates: tuple[str, ...], what: str) -> tuple[str | None, list[str]]:
    """Return the first usable path and the list of places that were tried.

    ``explicit`` is (source, value) in priority order. A value given explicitly
    but not executable is an error of its own, not a silent fall-through.
    """
    tried: list[str] = []
    for source, value in explicit:
        if not value:
            tried.append(f"{source} (not set)")
            continue
        found = shutil.which(value)
        if found is None:
            raise ChromeNotFound(f"{what} named by {source} is not an executable file: {value!r}. {INSTALL_HINT}")
        return found, tried
    for name in candidates:
        found = shutil.which(name)
        if found:
            return found, tried
    tried.append("PATH: " + ", ".join(candidates))
    return None, tried


def _chrome_sources(cli: str | None, ini: str | None, env: Mapping[str, str]) -> list[tuple[str, str | None]]:
    return [("--chrome-binary", cli), ("ini chrome_binary", ini), (f"${ENV_CHROME_BINARY}", env.get(ENV_CHROME_BINARY))]


def _driver_sources(cli: str | None, ini: str | None, env: Mapping[str, str]) -> list[tuple[str, str | None]]:
    return [("--chromedriver", cli), ("ini chromedriver", ini), (f"${ENV_CHROMEDRIVER}", env.get(ENV_CHROMEDRIVER))]


def locate_chrome(
    cli_binary: str | None,
    ini_binary: str | None,
    cli_driver: str | None,
    ini_driver: str | None,
    environ: Mapping[str, str] | None = None,
) -> ChromeLocation:
    """Find Chrome and chromedriver: command line, then ini, then environment, then PATH."""
    env = os.environ if environ is None else environ
    binary, tried_binary = _resolve(_chrome_sources(cli_binary, ini_binary, env), CHROME_CANDIDATES, "Chrome")
    driver, tried_driver = _resolve(_driver_sources(cli_driver, ini_driver, env), CHROMEDRIVER_CANDIDATES, "chromedriver")
    missing = []
    if binary is None:
        missing.append("Chrome (looked at " + "; ".join(tried_binary) + ")")
    if driver is None:
        missing.append("chromedriver (looked at " + "; ".join(tried_driver) + ")")
    if missing:
        raise ChromeNotFound("cannot start the browser: no " + " and no ".join(missing) + ". " + INSTALL_HINT)
    assert binary is not None and driver is not None
    return ChromeLocation(binary=binary, driver=driver)


def find_chrome_binary(environ: Mapping[str, str] | None = None) -> str:
    """Chrome as ``locate_chrome`` finds it without options: $CHROME_BINARY, then PATH."""
    env = os.environ if environ is None else environ
    found, tried = _resolve(_chrome_sources(None, None, env), CHROME_CANDIDATES, "Chrome")
    if found is None:
        raise ChromeNotFound("cannot start the browser: no Chrome (looked at " + "; ".join(tried) + "). " + INSTALL_HINT)
    return found


def find_chromedriver(environ: Mapping[str, str] | None = None) -> str:
    """chromedriver as ``locate_chrome`` finds it without options: $CHROMEDRIVER, then PATH."""
    env = os.environ if environ is None else environ
    found, tried = _resolve(_driver_sources(None, None, env), CHROMEDRIVER_CANDIDATES, "chromedriver")
    if found is None:
        raise ChromeNotFound("cannot start the browser: no chromedriver (looked at " + "; ".join(tried) + "). " + INSTALL_HINT)
    return found


#: The largest window: 8K UHD (7680x4320, either way round). A viewport screenshot is a
#: width x height x 4 byte bitmap; at 8K Chrome takes about a second for it, at 16384x16384
#: it does not answer within 20 s, and at 100000x100000 (40 GB) never.
MAX_WINDOW_SIDE = 7680
MAX_WINDOW_PIXELS = 7680 * 4320


def parse_window_size(value: str) -> tuple[int, int]:
    """'1280x900' -> (1280, 900); raises ValueError with the expected form."""
    match = re.fullmatch(r"\s*([0-9]{1,9})\s*x\s*([0-9]{1,9})\s*", value.lower())
    if match is None:
        raise ValueError(f"window size must look like 1280x900, got {value!r}")
    width, height = int(match.group(1)), int(match.group(2))
    if width < 100 or height < 100:
        raise ValueError(f"window size {value!r} is too small (at least 100x100)")
    if max(width, height) > MAX_WINDOW_SIDE or width * height > MAX_WINDOW_PIXELS:
        raise ValueError(
            f"window size {value!r} is too large (at most 7680x4320 or 4320x7680, 8K: "
            "a larger screenshot takes Chrome minutes or never ends)"
        )
    return width, height


#: Lambda sets the function's name in every execution environment, and beside it the
#: Runtime API's address and the code folder; the local stand-ins set the same.
LAMBDA_NAME_VARIABLE = "AWS_LAMBDA_FUNCTION_NAME"
LAMBDA_RUNTIME_VARIABLES = ("AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT")

#: Headless Chromium 15x loads the browser's own omnibox popups (WebUI pages of the address
#: bar nobody sees, chrome://omnibox-popup.top-chrome/) when it starts: about 1 CPU-s in their
#: renderer over the first seconds, and their memory, on every Chrome start. Pages never see them.
#: chromedriver merges this list with its own ``--disable-features``; unknown names are ignored.
BACKGROUND_UI_FEATURES = "--disable-features=WebUIOmniboxPopup,WebUIOmniboxAimPopup"
#: The first tab opens on about:blank instead of the new tab page (a renderer of its own).
START_ON_BLANK_PREFS = {"session.restore_on_startup": 4, "session.startup_urls": ["about:blank"]}

#: The flag added when Chrome fails to start on Lambda: everything in one process, as
#: most projects that run Chrome on Lambda do. It costs isolation, so it is the fallback.
SINGLE_PROCESS_FLAG = "--single-process"


#: chrome-headless-shell (Chrome for Testing's, Debian's ``chromium-headless-shell``): the old
#: headless implementation that Puppeteer and Playwright run headless tests on. It starts in
#: about a third of Chrome's CPU and navigates in two thirds (bench/headless_shell.py). chromedriver
#: opens its first page in it only when the session names it as the browser.
HEADLESS_SHELL = "chrome-headless-shell"


def is_headless_shell(binary: str | None) -> bool:
    """A chrome-headless-shell binary, by its name or the name of the file it links to."""
    if not binary:
        return False
    names = {os.path.basename(binary), os.path.basename(os.path.realpath(binary))}
    return any("headless-shell" in name or "headless_shell" in name for name in names)


def name_the_shell(options: Any) -> None:
    """Name the headless shell as the browser when ``options``' binary is one: without this,
    chromedriver waits for a page the shell never opens (``unable to discover open pages``)."""
    if is_headless_shell(options.binary_location) and options.capabilities.get("browserName") == "chrome":
        options.set_capability("browserName", HEADLESS_SHELL)


def in_lambda(environ: Mapping[str, str] | None = None) -> bool:
    """True inside an AWS Lambda execution environment (or the local stand-ins, which set the same variables).

    The function's name alone is not enough: a developer may export it for a deploy script.
    """
    env = os.environ if environ is None else environ
    return bool(env.get(LAMBDA_NAME_VARIABLE)) and any(env.get(name) for name in LAMBDA_RUNTIME_VARIABLES)


def chrome_flags(
    user_data_dir: str,
    window_size: tuple[int, int],
    headless: bool = True,
    environ: Mapping[str, str] | None = None,
    scratch_dir: str | None = None,
) -> list[str]:
    """Chrome's flags for the current environment: local/CI, or Lambda when ``environ`` says so.

    Both sets run without /dev/shm and without background traffic. The Lambda set adds
    what its sandbox needs: no zygote (it cannot fork one there), the GPU process inside
    the browser (a separate one fails to launch), and the data path and disk cache in
    ``scratch_dir`` (default: inside the profile), since only the temp dir is writable.
    """
    flags = [
        "--disable-gpu",
        "--disable-dev-shm-usage",  # Lambda's /dev/shm is tiny; write shared memory to /tmp
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",  # no calls home: closed networks refuse them by the dozen
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--disable-crash-reporter",
        "--disable-breakpad",
        "--metrics-recording-only",
        "--password-store=basic",
        "--mute-audio",
        BACKGROUND_UI_FEATURES,
        f"--window-size={window_size[0]},{window_size[1]}",
        f"--user-data-dir={user_data_dir}",
    ]
    if headless:
        flags.insert(0, "--headless=new")
    if needs_no_sandbox(environ):
        flags.append("--no-sandbox")
    if in_lambda(environ):
        scratch = scratch_dir or user_data_dir
        flags += [
            "--no-zygote",
            "--in-process-gpu",
            f"--data-path={os.path.join(scratch, 'data')}",
            f"--disk-cache-dir={os.path.join(scratch, 'cache')}",
        ]
    return flags


def needs_no_sandbox(environ: Mapping[str, str] | None = None) -> bool:
    """Chrome refuses to start as root with its sandbox on, and Lambda (a non-root
    user without user namespaces or a setuid helper) cannot provide one."""
    return os.geteuid() == 0 or in_lambda(environ)


@contextmanager
def command_timeout(driver: Any, seconds: float) -> Iterator[None]:
    """Bound each WebDriver HTTP call for a while (the default waits forever)."""
    config = getattr(getattr(driver, "command_executor", None), "client_config", None)
    if config is None:
        yield
        return
    previous = config.timeout
    config.timeout = seconds
    try:
        yield
    finally:
        config.timeout = previous


class CallTimeout(Exception):
    """A WebDriver call did not answer within its bound."""


def call_within(driver: Any, call: Callable[[Any], Any], seconds: float) -> Any:
    """``call(driver)`` on a thread of its own, for at most ``seconds``; :class:`CallTimeout` after that.

    The HTTP timeout alone is not a bound (urllib3 retries a timed-out GET three times),
    and a caller interrupted inside a call on the same driver (the deadline) may hold what
    that call holds. The abandoned thread ends when the browser answers or is killed.
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call(driver)
        except BaseException as exc:  # handed to the caller below
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="lambda-ui-webdriver-call", daemon=True)
    with command_timeout(driver, seconds):  # so an abandoned call ends too
        worker.start()
        worker.join(seconds)
    if worker.is_alive():
        raise CallTimeout(f"no answer within {seconds:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


@dataclass
class ChromeProcess:
    """A running chromedriver + Chrome pair and everything needed to kill it."""

    driver: webdriver.Chrome
    workdir: str
    driver_pid: int
    browser_version: str = ""
    driver_version: str = ""
    started_in: float = 0.0
    #: Every argument Chrome was started with, as given to chromedriver.
    flags: list[str] = field(default_factory=list)
    _stopped: bool = field(default=False, repr=False)

    def is_healthy(self) -> bool:
        """True if the session answers a trivial command."""
        if self._stopped:
            return False
        try:
            answer: object = self.driver.execute_script("return 1")
        except Exception:
            return False
        return answer == 1

    @property
    def stopped(self) -> bool:
        return self._stopped

    def stop(self, quit_timeout: float = 5.0) -> None:
        """Quit politely for at most ``quit_timeout``, then kill whatever is left, then remove the private directory.

        The quit runs on a thread of its own: a hung browser answers neither the
        quit nor Selenium's shutdown request (which polls for 30 s), and an
        interrupt (SIGTERM, Ctrl-C) while waiting still reaches the kill.
        """
        if self._stopped:
            return
        self._stopped = True
        quitter = threading.Thread(target=self._quit, args=(quit_timeout,), name="lambda-ui-quit", daemon=True)
        try:
            quitter.start()
            quitter.join(quit_timeout)
        finally:
            self.kill()

    def _quit(self, seconds: float) -> None:
        try:
            with command_timeout(self.driver, seconds):
                self.driver.quit()
        except Exception:
            pass  # a crashed or closed browser cannot quit; the kill still runs

    def kill(self) -> None:
        """Kill chromedriver, Chrome and its helpers at once, without asking, and remove the private directory."""
        self._stopped = True
        kill_process_tree(self.driver_pid, self.workdir)
        shutil.rmtree(self.workdir, ignore_errors=True)


def kill_marked(marker: str) -> int:
    """Kill every process whose command line mentions ``marker``; return how many."""
    import psutil

    victims: list[psutil.Process] = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if any(marker in part for part in proc.info["cmdline"] or []):
                victims.append(proc)
        except psutil.Error:
            continue
    kill_all(victims)
    return len(victims)


def kill_all(processes: list[psutil.Process]) -> None:
    """SIGKILL each process (gone ones are fine) and wait for them, 3 s at most."""
    import psutil

    for proc in processes:
        try:
            proc.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(processes, timeout=3)


def kill_process_tree(leader_pid: int, marker: str) -> int:
    """Kill the process group led by ``leader_pid`` and every process whose command
    line mentions ``marker`` (the private directory). Returns how many were found."""
    try:
        os.killpg(leader_pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    killed = kill_marked(marker)
    # Reap our direct child so no zombie chromedriver entry stays in the table.
    try:
        os.waitpid(leader_pid, os.WNOHANG)
    except ChildProcessError:
        pass
    return killed


#: Drivers this module started, which keep every console entry (``goog:loggingPrefs`` ALL);
#: chromedriver keeps only warnings and errors of any other.
full_console: weakref.WeakSet[Any] = weakref.WeakSet()


def start_chrome(
    location: ChromeLocation,
    window_size: tuple[int, int],
    tmp_root: str | None = None,
    headless: bool = True,
    extra_flags: list[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> ChromeProcess:
    """Start chromedriver and a fresh Chrome profile in a private temporary directory.

    HOME and the XDG dirs point into that directory so that nothing Chrome writes
    (crash databases, caches) lands outside it, and so every Chrome process,
    even a detached crashpad handler, carries the directory in its command line.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    workdir = tempfile.mkdtemp(prefix=CHROME_DIR_PREFIX, dir=tmp_root)
    profile = os.path.join(workdir, "profile")
    options = webdriver.ChromeOptions()
    options.binary_location = location.binary
    name_the_shell(options)
    for flag in chrome_flags(profile, window_size, headless, environ, scratch_dir=workdir) + list(extra_flags or []):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    options.add_experimental_option("prefs", START_ON_BLANK_PREFS)
    env = dict(os.environ)
    env.update(HOME=workdir, XDG_CONFIG_HOME=os.path.join(workdir, ".config"), XDG_CACHE_HOME=os.path.join(workdir, ".cache"))
    # A session of its own: Ctrl-C in the terminal reaches pytest, which then
    # stops the browser in order, instead of killing chromedriver mid-command.
    service = Service(
        executable_path=location.driver,
        env=env,
        log_output=subprocess.DEVNULL,
        popen_kw={"start_new_session": True},
    )
    started = time.monotonic()
    token = own_launch.set(True)
    try:
        driver = webdriver.Chrome(service=service, options=options)
    except Exception:
        process = getattr(service, "process", None)
        if process is not None:
            kill_process_tree(process.pid, workdir)
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    finally:
        own_launch.reset(token)
    full_console.add(driver)
    caps = driver.capabilities
    return ChromeProcess(
        driver=driver,
        workdir=workdir,
        driver_pid=service.process.pid,
        browser_version=str(caps.get("browserVersion", "")),
        driver_version=str(caps.get("chrome", {}).get("chromedriverVersion", "")).split(" ")[0],
        started_in=time.monotonic() - started,
        flags=list(options.arguments),
    )


class ChromeLauncher:
    """Starts the warm browser of one execution environment, with one fallback on Lambda.

    On Lambda a Chrome that fails to start is started once more with ``--single-process``
    (the zygote and GPU process limits of its sandbox are the usual cause). When that
    works, every later start uses the flag at once, since the environment does not
    change, and :attr:`single_process_retry` says so in the answer's facts. Elsewhere,
    or when the retry fails as well, the caller gets the error.
    """

    def __init__(
        self,
        locate: Callable[[], ChromeLocation],
        window_size: tuple[int, int],
        tmp_root: str | None = None,
        environ: Mapping[str, str] | None = None,
        start: Callable[..., ChromeProcess] = start_chrome,
    ) -> None:
        self._locate = locate
        self._location: ChromeLocation | None = None
        self.window_size = window_size
        self.tmp_root = tmp_root
        self.environ = environ
        self._start = start
        self.single_process_retry = False

    @property
    def location(self) -> ChromeLocation:
        if self._location is None:
            self._location = self._locate()
        return self._location

    def _launch(self, extra_flags: list[str]) -> ChromeProcess:
        return self._start(self.location, self.window_size, tmp_root=self.tmp_root, extra_flags=extra_flags, environ=self.environ)

    def start(self) -> ChromeProcess:
        """A new Chrome; :class:`ChromeNotFound` and a second failure reach the caller."""
        if self.single_process_retry:
            return self._launch([SINGLE_PROCESS_FLAG])
        try:
            return self._launch([])
        except ChromeNotFound:
            raise
        except Exception as first:
            if not in_lambda(self.environ):
                raise
            log.warning("Chrome did not start (%s); trying once more with %s", _first_line(first), SINGLE_PROCESS_FLAG)
            try:
                chrome = self._launch([SINGLE_PROCESS_FLAG])
            except Exception as second:
                raise ChromeStartFailed(
                    f"Chrome did not start: {_first_line(first)}; with {SINGLE_PROCESS_FLAG} neither: {_first_line(second)}"
                ) from second
            self.single_process_retry = True
            return chrome


class ChromeStartFailed(Exception):
    """Chrome did not start, with or without the single-process fallback."""


def _first_line(exc: BaseException) -> str:
    """Selenium's messages run to a stack trace; the first line names the problem."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]

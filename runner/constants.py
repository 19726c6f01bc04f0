"""Names shared across the runner: environment variables, ini keys, defaults."""

from __future__ import annotations

from runner import junit_contract

ENV_CHROME_BINARY = "CHROME_BINARY"
ENV_CHROMEDRIVER = "CHROMEDRIVER"

#: Looked up on PATH, in this order, when nothing else names a browser.
CHROME_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
CHROMEDRIVER_CANDIDATES = ("chromedriver",)

INSTALL_HINT = (
    "Install them (Debian/Ubuntu: `sudo apt-get install chromium chromium-driver`; "
    "elsewhere: Chrome for Testing with the chromedriver of the same version), "
    "or name them with --chrome-binary/--chromedriver, the ini options chrome_binary/chromedriver, "
    "or the environment variables CHROME_BINARY/CHROMEDRIVER."
)

DEFAULT_ARTIFACTS = "artifacts"
DEFAULT_WINDOW_SIZE = "1280x900"

#: JUnit property names live in runner/junit_contract.py. These two stay importable
#: here only for runner/reports/, which reads them until it imports the contract.
PROP_ARTIFACT_PREFIX = junit_contract.ARTIFACT_PREFIX
PROP_ARTIFACT_WARNING = junit_contract.ARTIFACT_WARNING

#: Key under which the controller hands its run id to pytest-xdist workers.
WORKERINPUT_RUN_ID = "lambda_ui_run_id"

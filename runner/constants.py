"""Names shared across the runner: environment variables, ini keys, defaults."""

from __future__ import annotations

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

#: Key under which the controller hands its run id to pytest-xdist workers.
WORKERINPUT_RUN_ID = "lambda_ui_run_id"

#: Seconds between two --lambda status lines when the output is not a terminal.
DEFAULT_STATUS_INTERVAL_S = 10.0

#: ini ``lambda_return_files``: which files tests write below the rootdir in Lambda come back
#: into it (runner/returned_files.py): pictures, pages, logs, data and recordings.
DEFAULT_RETURN_FILES = (
    "*.png", "*.jpg", "*.jpeg", "*.gif", "*.webp", "*.svg", "*.pdf", "*.html", "*.htm", "*.txt", "*.log",
    "*.json", "*.xml", "*.csv", "*.har", "*.mp4", "*.webm",
)

"""Allure results from Lambda, in the local ``--alluredir``.

allure-pytest writes result files where the tests run. With ``--alluredir`` the
client asks the function for them (``RunEvent.allure``, lambda_pkg/allure_files.py);
each answer names the files it left in S3, and they are fetched here in the
background while the run goes on, so ``allure serve <dir>`` shows the run as a
local one would. A key an answer names is used only when it is one of this run's
Allure keys with a plain file name: nothing is written outside the folder.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from lambda_ui.contract import ALLURE_FILE_NAME, ALLURE_FOLDER
from lambda_ui.runner.aws import s3


def allure_dir(config: Any) -> str | None:
    """The ``--alluredir`` of this session (allure-pytest's option), if any."""
    return config.getoption("allure_report_dir", None) or None


class AllureDownloads:
    def __init__(self, client: Any, location: s3.S3Location, run_id: str, folder: str) -> None:
        self._client = client
        self._location = location
        self._prefix = location.key(run_id, ALLURE_FOLDER) + "/"
        self.folder = Path(folder)
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="lambda-ui-allure")
        self._pending: list[Future[bool]] = []
        self.fetched = 0
        self.problems: list[str] = []

    def fetch(self, keys: object) -> None:
        """Start fetching the files an answer names (``allure_files``)."""
        for key in keys if isinstance(keys, list) else []:
            name = key[len(self._prefix) :] if isinstance(key, str) and key.startswith(self._prefix) else ""
            if not ALLURE_FILE_NAME.fullmatch(name):
                self.problems.append(f"not one of this run's Allure files, not fetched: {str(key)[:200]!r}")
                continue
            self._pending.append(self._pool.submit(self._get, key, name))

    def _get(self, key: str, name: str) -> bool:
        try:
            body = self._client.get_object(Bucket=self._location.bucket, Key=key)["Body"].read()
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / name).write_bytes(body)
            return True
        except Exception as exc:  # one lost file is a line in the summary, never a failed run
            self.problems.append(f"{self._location.url(key)}: {s3.describe_error(exc, self._location.bucket, self._client)}")
            return False

    def finish(self) -> None:
        """Wait for every fetch started."""
        wait(self._pending)
        self._pool.shutdown()
        self.fetched = sum(future.result() for future in self._pending)

    def summary(self) -> list[str]:
        lines = [f"allure: {self.fetched} result file(s) from Lambda in {self.folder}"]
        lines += [f"allure: {problem}" for problem in self.problems[:10]]
        if len(self.problems) > 10:
            lines.append(f"allure: ... and {len(self.problems) - 10} more problem(s)")
        return lines

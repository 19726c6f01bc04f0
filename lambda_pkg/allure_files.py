"""Allure results written in the function, handed to the client through S3.

allure-pytest writes its result files in the process that runs the tests; under
pytest-xdist every worker shares the developer's folder, here the function has only
its own /tmp. With ``RunEvent.allure`` the in-function pytest writes to a folder of
this run's own, and after each test the new files go to
``<prefix>/<run id>/_allure/`` and leave /tmp; the client puts them in its
``--alluredir`` (runner/allure_results.py).
"""

from __future__ import annotations

import importlib.util
import mimetypes
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from lambda_ui.contract import ALLURE_FILE_NAME, ALLURE_FOLDER
from lambda_ui.function.health import run_folder
from lambda_ui.runner.aws import s3

#: More files than this from one test are left out (the answer says how many).
MAX_FILES = 500


def available() -> bool:
    """allure-pytest is in the image (the client's image check names it when it is not)."""
    return importlib.util.find_spec("allure_pytest") is not None


def folder_for(tmp: Path, run_id: str) -> Path:
    """This run's folder; those of earlier runs are removed (a session that ended later may
    still have written its fixtures' container files there)."""
    return run_folder(tmp / "lambda-ui" / "allure", run_id)


def ship(client: Any, location: s3.S3Location, run_id: str, folder: Path) -> tuple[list[str], list[str]]:
    """Upload the files in ``folder`` and remove them; returns their keys and what went wrong."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.is_symlink() and ALLURE_FILE_NAME.fullmatch(p.name))
    problems = [f"{len(files) - MAX_FILES} Allure file(s) over {MAX_FILES} left out"] if len(files) > MAX_FILES else []
    files = files[:MAX_FILES]

    def upload(path: Path) -> str | None:
        key = location.key(run_id, ALLURE_FOLDER, path.name)
        try:
            s3.put_bytes(client, location, key, path.read_bytes(), mimetypes.guess_type(path.name)[0] or "application/octet-stream")
        except (OSError, s3.S3Problem) as exc:
            problems.append(f"Allure file {path.name} not uploaded: {exc}")
            return None
        finally:
            path.unlink(missing_ok=True)
        return key

    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = [key for key in pool.map(upload, files) if key is not None]
    for leftover in folder.iterdir():  # anything else allure or a test left: not ours to send
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
    return keys, problems

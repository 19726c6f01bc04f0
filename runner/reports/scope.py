"""Which artifact links of a report may be read: its own folder and its run's location, nothing else.

A report is untrusted input: an ``artifact:*`` value or an ``[[ATTACHMENT|…]]``
line can name ``.aws/credentials``, ``/etc/passwd``, ``../other/.env`` or
``s3://other-bucket/prod-secrets.env``. The readers (``html``, ``download``)
ask a :class:`Scope` before they touch a link:

- a local path is read only if, with symlinks resolved, it lies under the
  report's own folder or under the run's artifacts folder, found from the
  ``artifacts_location`` suite property (relative to the folder pytest ran in);
  a path with a ``..`` part, or with a hidden (``.``-prefixed) part below that
  folder, is refused (the plugin never writes either);
- an ``s3://`` link is read only if it is in the same bucket as the run's
  ``artifacts_location`` and its key lies under that prefix;
- anything else (``http(s)://`` URLs included) is refused.

``artifacts_location`` counts only when its last part is the report's
``run_id`` (where the plugin puts a run's files). Both come from the report,
so they bound what a forged report can reach but do not make it trustworthy;
``--artifacts-location`` replaces them with locations the reader names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from lambda_ui.runner import junit_contract as junit
from lambda_ui.runner.reports.sources import FetchError, is_s3, split_s3

#: What the plugin accepts as a run id; anything else in a report names no run folder.
RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
OUTSIDE = "not read: outside this report's folder and its run's artifacts location"


class Refused(Exception):
    """A link the report may not have read; ``reason`` says why, for the page and the log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def listed(value: str) -> list[str]:
    """A suite property that merged reports hold as a comma-separated list."""
    return [item.strip() for item in value.split(",") if item.strip() and item.strip() != "…"]


def is_url(value: str) -> bool:
    """``http://…``, ``file://…`` and the like: never fetched for a report (``javascript:x`` is a relative path)."""
    return _URL.match(value) is not None


def _hidden_or_up(parts: tuple[str, ...]) -> bool:
    return any(part == ".." or (part.startswith(".") and part != ".") for part in parts)


@dataclass(frozen=True)
class S3Area:
    """Keys of one bucket under one prefix (which ends with ``/``)."""

    bucket: str
    prefix: str

    def holds(self, bucket: str, key: str) -> bool:
        return bucket == self.bucket and key.startswith(self.prefix)


@dataclass
class Scope:
    """The folders and S3 prefixes one report's artifacts may come from.

    ``anchors``: folders a relative link starts from (where pytest ran,
    ``--artifacts-root``, the report's folder); ``folders``: resolved local
    folders links may lead into; ``s3``: S3 areas; ``notes``: locations the
    report named that were not accepted, and why.
    """

    anchors: list[Path]
    folders: list[Path] = field(default_factory=list)
    s3: list[S3Area] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def _within(self, real: Path) -> bool:
        return any(real.is_relative_to(f) and not _hidden_or_up(real.relative_to(f).parts) for f in self.folders)

    def local_candidates(self, value: str) -> list[Path]:
        """Resolved paths ``value`` may mean, all in scope; :class:`Refused` when none is."""
        if not value or "\x00" in value:
            raise Refused(OUTSIDE)
        path = Path(value)
        if ".." in PurePath(value).parts:
            raise Refused("not read: the path goes up a folder with '..'")
        candidates = [path] if path.is_absolute() else [anchor / path for anchor in self.anchors]
        inside = []
        for candidate in candidates:
            try:
                real = candidate.resolve()
            except (OSError, RuntimeError):  # a symlink loop
                continue
            if self._within(real) and real not in inside:
                inside.append(real)
        if not inside:
            raise Refused(OUTSIDE)
        return inside

    def locate(self, value: str) -> Path:
        """The in-scope regular file ``value`` names; :class:`Refused`, or :class:`FetchError` if missing."""
        candidates = self.local_candidates(value)
        for candidate in candidates:
            if candidate.is_file():
                return candidate
        raise FetchError(self.missing_reason(value))

    def missing_reason(self, value: str) -> str:
        if Path(value).is_absolute():
            return f"file not found: {value}"
        tried = ", ".join(str(a) for a in self.anchors)
        return f"file not found: {value} (looked under {tried}; pass --artifacts-root DIR if pytest ran elsewhere)"

    def check_s3(self, url: str) -> None:
        """Raise :class:`Refused` unless ``url`` is a plain key under one of the run's S3 prefixes."""
        try:
            bucket, key = split_s3(url)
        except FetchError as exc:
            raise Refused(f"not read: {exc.reason}") from None
        if any(part in ("", ".", "..") for part in key.split("/")) or "\\" in key or "\x00" in key:
            raise Refused("not read: the key has empty, '.' or '..' parts")
        if not any(area.holds(bucket, key) for area in self.s3):
            raise Refused(OUTSIDE)


def _accept_local(scope: Scope, location: str, run_ids: set[str], trusted: bool) -> None:
    path = Path(location)
    parts = PurePath(location).parts
    if not trusted and (_hidden_or_up(parts) or not parts or parts[-1] not in run_ids):
        scope.notes.append(f"artifacts_location {location!r} is not a folder named for the run id; not used")
        return
    if path.is_absolute():
        real = path.resolve()
        if trusted or any(real.is_relative_to(anchor) for anchor in scope.anchors):
            scope.folders.append(real)
            return
        scope.notes.append(
            f"artifacts_location {location} is outside {', '.join(str(a) for a in scope.anchors)}; "
            "pass --artifacts-root DIR (the folder above it) to read artifacts there"
        )
        return
    for anchor in scope.anchors:
        real = (anchor / path).resolve()
        if trusted or real.is_relative_to(anchor):
            scope.folders.append(real)


def _accept_s3(scope: Scope, location: str, run_ids: set[str], trusted: bool) -> None:
    try:
        bucket, key = split_s3(location.rstrip("/") + "/x")
    except FetchError:
        scope.notes.append(f"artifacts_location {location!r} is not an s3://bucket/prefix URL; not used")
        return
    prefix = key[:-1]
    parts = prefix.rstrip("/").split("/")
    if prefix and any(part in ("", ".", "..") for part in parts):
        scope.notes.append(f"artifacts_location {location!r} has empty, '.' or '..' parts; not used")
        return
    if not trusted and parts[-1] not in run_ids:
        scope.notes.append(f"artifacts_location {location!r} does not end with the report's run id; not used")
        return
    scope.s3.append(S3Area(bucket, prefix))


def build_scope(
    run: dict[str, str], report_folders: list[Path], anchors: list[Path], trusted: list[str] | None = None
) -> Scope:
    """The scope of a report with run facts ``run`` read from ``report_folders``.

    ``trusted`` (``--artifacts-location``) replaces the report's own
    ``artifacts_location`` values; they need not end with the run id.
    """
    resolved = list(dict.fromkeys(a.resolve() for a in anchors))
    scope = Scope(anchors=resolved, folders=list(dict.fromkeys(f.resolve() for f in report_folders)))
    run_ids = {r for r in listed(run.get(junit.RUN_ID, "")) if RUN_ID.fullmatch(r)}
    locations = trusted if trusted else listed(run.get(junit.ARTIFACTS_LOCATION, ""))
    for location in locations:
        if is_s3(location):
            _accept_s3(scope, location, run_ids, bool(trusted))
        else:
            _accept_local(scope, location.rstrip("/\\") or location, run_ids, bool(trusted))
    scope.folders = list(dict.fromkeys(scope.folders))
    return scope

"""Fetch a report's S3 artifacts into a folder and link them from a copy of the report.

CI systems show files they publish themselves: GitLab's test report opens an
``[[ATTACHMENT|path]]`` when ``path`` is a job artifact, relative to the
project folder. So each ``s3://bucket/key`` is saved as ``DIR/bucket/key``,
and the copy of the report links it relative to ``--link-base`` (the current
folder by default, which is ``$CI_PROJECT_DIR`` in a GitLab job), in the
``artifact:`` properties and in every ``[[ATTACHMENT|…]]`` line (also those
inside ``<flakyFailure>`` and friends). An artifact that cannot be fetched
keeps its S3 link and gets an ``artifact_warning`` saying why.

Only links under the run's own ``artifacts_location`` are fetched (see
:mod:`lambda_ui.runner.reports.scope`). A link out of that scope, or a key this folder
cannot hold (a part too long for a file name, ``a/b`` next to ``a/b/c``), is
skipped with its reason; the others are still fetched, and the caller exits
non-zero so the skip is noticed.
"""

from __future__ import annotations

import errno
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from lambda_ui.runner.junit_contract import ARTIFACT_PREFIX, ARTIFACT_WARNING
from lambda_ui.runner.reports.atomic import write_atomic
from lambda_ui.runner.reports.model import run_facts
from lambda_ui.runner.reports.safety import ReportError, check_junit_root, parse_xml
from lambda_ui.runner.reports.scope import Refused, Scope, build_scope
from lambda_ui.runner.reports.sources import FetchError, S3Reader, is_s3, read_input, split_s3

_ATTACHMENT = re.compile(r"\[\[ATTACHMENT\|(s3://[^\]\n]+)\]\]")
#: NAME_MAX of common Linux, macOS and Windows file systems.
MAX_NAME_BYTES = 255
_FIRST_SCREENSHOTS = ("/failure-screenshot.png]]", "/deadline-screenshot.png]]")


@dataclass
class DownloadOptions:
    directory: Path
    output: Path | None = None
    link_base: Path = Path(".")
    jobs: int = 8
    max_artifact_bytes: int = 50_000_000
    absolute: bool = False  # Jenkins' junit-attachments documents absolute paths


@dataclass
class DownloadOutcome:
    output: Path
    total: int = 0
    downloaded: int = 0
    warnings: list[str] = field(default_factory=list)
    #: Links not fetched because of what they are (out of the report's scope, or a
    #: key this folder cannot hold), as "url: reason"; the command then exits 1.
    skipped: list[str] = field(default_factory=list)


def local_target(directory: Path, url: str) -> Path:
    """Where ``s3://bucket/key`` is saved; a key that would escape ``directory`` is refused."""
    bucket, key = split_s3(url)
    parts = [bucket, *key.split("/")]
    if any(p in ("", ".", "..") or "\\" in p or "\x00" in p for p in parts):
        raise FetchError(f"{url}: refusing a key with empty, '.' or '..' parts (it could write outside {directory})")
    if any(len(p.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES for p in parts):
        raise FetchError(f"{url}: a part of the key is longer than {MAX_NAME_BYTES} bytes, too long for a file name")
    target = directory.joinpath(*parts)
    if not target.resolve().is_relative_to(directory.resolve()):
        raise FetchError(f"{url}: refusing a key that leads outside {directory}")
    return target


def _file_system_reason(url: str, target: Path, exc: OSError) -> str:
    if exc.errno == errno.ENAMETOOLONG:
        return f"{url}: the key is too long for a file name in this folder"
    if exc.errno in (errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
        return f"{url}: clashes with another file or folder at {target} (one key is a folder of another)"
    return f"{url}: cannot save as {target}: {exc.strerror or exc}"


def _targets(directory: Path, urls: list[str], scope: Scope) -> tuple[dict[str, Path], dict[str, str]]:
    """Where each link goes, and the links skipped (out of scope, unsafe key, file/folder clash) with why."""
    targets: dict[str, Path] = {}
    skipped: dict[str, str] = {}
    for url in urls:
        try:
            scope.check_s3(url)
            targets[url] = local_target(directory, url)
        except Refused as exc:
            skipped[url] = f"{url}: {exc.reason}"
        except FetchError as exc:
            skipped[url] = exc.reason
    # Keys a/b and a/b/c cannot both be files: a/b would have to be a folder too.
    folders = {parent for target in targets.values() for parent in target.parents}
    for url, target in list(targets.items()):
        if target in folders:
            skipped[url] = f"{url}: clashes with another key that needs {target.name!r} to be a folder"
            del targets[url]
    return targets, skipped


def screenshot_first(text: str) -> str:
    """Move the failure (or deadline) screenshot's ``[[ATTACHMENT|…]]`` line before the others.

    GitLab shows only the first attachment of a test, and in filmstrip mode the
    frames were saved (and so linked) before the failure screenshot.
    """
    lines = text.split("\n")
    marked = [i for i, line in enumerate(lines) if line.startswith("[[ATTACHMENT|")]
    if len(marked) < 2:
        return text
    attached = [lines[i] for i in marked]
    preferred = sorted(attached, key=lambda line: not line.endswith(_FIRST_SCREENSHOTS))
    for i, line in zip(marked, preferred):
        lines[i] = line
    return "\n".join(lines)


def _case_urls(case: Any) -> list[str]:
    urls = [
        p.get("value") or ""
        for props in case.iterfind("properties")
        for p in props.iterfind("property")
        if (p.get("name") or "").startswith(ARTIFACT_PREFIX) and is_s3(p.get("value") or "")
    ]
    for out in case.iter("system-out"):
        urls.extend(_ATTACHMENT.findall(out.text or ""))
    return list(dict.fromkeys(urls))


def _add_warning(case: Any, text: str) -> None:
    props = case.find("properties")
    if props is None:
        props = ET.Element("properties")
        case.insert(0, props)
    ET.SubElement(props, "property", name=ARTIFACT_WARNING, value=text)


def _link(target: Path, base: Path) -> str:
    return Path(os.path.relpath(target.resolve(), base.resolve())).as_posix()


def download(
    report: str, options: DownloadOptions, max_bytes: int, reader: S3Reader, trusted: list[str] | None = None
) -> DownloadOutcome:
    root = parse_xml(report, read_input(report, max_bytes, reader))
    check_junit_root(report, root)
    name = report.rstrip("/").rpartition("/")[2] or "report.xml"
    output = options.output or options.directory / name
    outcome = DownloadOutcome(output=output)
    scope = build_scope(run_facts(root), [], [Path.cwd()], trusted)
    outcome.warnings.extend(scope.notes)

    cases = list(root.iter("testcase"))
    per_case = [_case_urls(case) for case in cases]
    urls = list(dict.fromkeys(u for urls in per_case for u in urls))
    outcome.total = len(urls)
    targets, skipped = _targets(options.directory, urls, scope)

    def fetch(url: str) -> Path | FetchError | str:
        """The saved file, why S3 could not give it, or (a string) why this folder cannot hold it."""
        target = targets[url]
        try:
            reader.download(url, target, options.max_artifact_bytes)
            return target
        except FetchError as exc:
            return exc
        except OSError as exc:  # skip this key, keep the rest
            return _file_system_reason(url, target, exc)

    with ThreadPoolExecutor(max_workers=options.jobs) as pool:
        results = dict(zip(targets, pool.map(fetch, targets)))
    skipped.update((u, r) for u, r in results.items() if isinstance(r, str))
    failed = {u: r for u, r in results.items() if isinstance(r, FetchError)}
    if failed and len(failed) == len(results) and all(r.bucket_level for r in failed.values()):
        reasons = list(dict.fromkeys(r.reason for r in failed.values()))
        raise ReportError(f"{report}: no artifact could be downloaded: {'; '.join(reasons)}")
    links = {
        u: (r.resolve().as_posix() if options.absolute else _link(r, options.link_base)) for u, r in results.items() if isinstance(r, Path)
    }
    outcome.downloaded = len(links)

    for prop in root.iter("property"):
        value = prop.get("value") or ""
        if (prop.get("name") or "").startswith(ARTIFACT_PREFIX) and value in links:
            prop.set("value", links[value])
    for element in root.iter("system-out"):
        if element.text and "[[ATTACHMENT|" in element.text:
            text = _ATTACHMENT.sub(lambda m: f"[[ATTACHMENT|{links.get(m.group(1), m.group(1))}]]", element.text)
            element.text = screenshot_first(text)
    for case, urls_of_case in zip(cases, per_case):
        for url in urls_of_case:
            if url in skipped:
                _add_warning(case, f"not downloaded: {skipped[url]}")
            elif url in failed:
                _add_warning(case, f"not downloaded: {failed[url].reason}")
    for bucket, reason in reader.bad_buckets.items():
        outcome.warnings.append(f"s3://{bucket}: {reason}")
    for problem in failed.values():
        if not problem.bucket_level:
            outcome.warnings.append(f"not downloaded: {problem.reason}")
    outcome.skipped = [skipped[u] for u in urls if u in skipped]
    if not urls:
        outcome.warnings.append(f"{report} links no s3:// artifacts; the copy is unchanged")

    try:
        write_atomic(output, lambda path: ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True))
    except OSError as exc:
        raise ReportError(f"{output}: cannot write: {exc.strerror or exc}") from None
    return outcome

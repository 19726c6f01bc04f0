"""A report as one self-contained HTML file.

Everything the page needs is inline (CSS, JavaScript, SVG timeline, and local
screenshots as ``data:`` URIs), so the file can be published as one CI
artifact. What goes where:

- local images: embedded, failures first, up to a total budget; past it, or
  with ``--no-embed``, linked relative to the HTML file;
- S3 artifacts: presigned GET links (default 24 h); for failing and flaky
  tests each one is checked first, so a missing object shows as "not
  available: <reason>" rather than a broken image;
- console logs of failing and flaky tests: fetched and shown as text;
- page sources: linked only (opening one runs the captured page's scripts).

Every string from the report is escaped, and only links the report's
:class:`~lambda_ui.runner.reports.scope.Scope` allows are read, presigned or linked (its
own folder, its run's artifacts location): a report is untrusted input, and must
not be able to pull ``~/.aws/credentials`` or another bucket's objects into a
published page. Any other link is shown as text. The page's
Content-Security-Policy allows only its own nonce-tagged script and style, and
images only from ``data:``, the page's own origin and the S3 endpoint of the
presigned links it holds, so opening it contacts no host a report names.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import string
import time
import urllib.parse
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html import escape
from importlib import resources
from pathlib import Path

from lambda_ui.runner import junit_contract as junit
from lambda_ui.runner.reports import html_parts, timeline
from lambda_ui.runner.reports.atomic import write_atomic
from lambda_ui.runner.reports.model import OUTCOMES, Artifact, Attempt, Case, Outcome, Report, unwrap_phase
from lambda_ui.runner.reports.safety import ReportError
from lambda_ui.runner.reports.scope import OUTSIDE, Refused, Scope, is_url
from lambda_ui.runner.reports.sources import ArtifactStore, FetchError, S3Reader, is_s3
from lambda_ui.runner.reports.summary import artifact_label, format_seconds, run_facts

MAX_IMAGE_BYTES = 5_000_000
MAX_TEXT_SHOWN = 256_000
MAX_TEXT_READ = 2_000_000
MAX_TRACE = 50_000
MAX_OUTPUT = 20_000
OPEN_PROBLEMS = 20
S3_WORKERS = 8
_HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")
_MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF8", "image/gif"))


@dataclass
class HtmlOptions:
    output: Path
    expires_s: int
    embed: bool = True
    embed_max_bytes: int = 20_000_000
    title: str | None = None


@dataclass
class HtmlOutcome:
    embedded: int = 0
    linked: int = 0
    gaps: int = 0
    refused: int = 0
    warnings: list[str] = field(default_factory=list)
    image_origins: set[str] = field(default_factory=set)  # of the presigned images, for the CSP


@dataclass
class Shown:
    """How one artifact appears: an image source, a link, inline text, or a gap with its reason."""

    kind: str  # "image" | "link" | "text" | "gap" | "refused" (text: the link as the report gave it)
    url: str = ""
    text: str = ""
    reason: str = ""
    full: str = ""  # for an embedded image: a link to the file itself (the zoom's "full size")


def _image_type(data: bytes) -> str | None:
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _origin(url: str) -> str | None:
    """``scheme://host[:port]`` of a URL we made (a presigned link), for the page's CSP."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not _HOST.fullmatch(parts.netloc):
        return None
    return f"{parts.scheme}://{parts.netloc}"


class _Resolver:
    """Decides, and fetches, what each artifact of the report becomes in the page."""

    def __init__(self, store: ArtifactStore, options: HtmlOptions, outcome: HtmlOutcome) -> None:
        self.store = store
        self.options = options
        self.outcome = outcome
        self.out_dir = options.output.resolve().parent
        self.budget = options.embed_max_bytes if options.embed else 0
        self.shown: dict[tuple[int, str, str], Shown] = {}

    def _relative_link(self, path: Path) -> str:
        relative = os.path.relpath(path, self.out_dir)
        return urllib.parse.quote(Path(relative).as_posix())

    def _local(self, artifact: Artifact, detailed: bool) -> Shown:
        try:
            path = self.store.local_path(artifact.location)
        except Refused as exc:
            return Shown("refused", text=artifact.location, reason=exc.reason)
        except FetchError as exc:
            return Shown("gap", reason=exc.reason)
        if artifact.kind == "image":
            size = path.stat().st_size
            encoded = 4 * -(-size // 3)  # base64 grows the file by a third; the budget is page bytes
            if size <= MAX_IMAGE_BYTES and encoded <= self.budget:
                data = path.read_bytes()
                mime = _image_type(data)
                if mime is None:
                    return Shown("gap", reason=f"{artifact.location} is not a PNG, JPEG, GIF or WebP image")
                self.budget -= encoded
                embedded = f"data:{mime};base64,{base64.b64encode(data).decode()}"
                return Shown("image", url=embedded, reason="embedded", full=self._relative_link(path))
            return Shown("image", url=self._relative_link(path))
        if artifact.kind == "text" and detailed:
            try:
                data = self.store.read(artifact.location, MAX_TEXT_READ)
            except (FetchError, Refused) as exc:
                return Shown("gap", reason=exc.reason)
            return Shown("text", url=self._relative_link(path), text=data.decode("utf-8", "replace"))
        return Shown("link", url=self._relative_link(path))

    def _s3(self, artifact: Artifact, detailed: bool) -> Shown:
        try:
            url = self.store.presign(artifact.location, self.options.expires_s)
            if detailed and artifact.kind == "text":
                data = self.store.read(artifact.location, MAX_TEXT_READ)
                return Shown("text", url=url, text=data.decode("utf-8", "replace"))
            if detailed:
                self.store.size(artifact.location)  # a missing object is a gap now, not a broken image later
        except Refused as exc:
            return Shown("refused", text=artifact.location, reason=exc.reason)
        except FetchError as exc:
            return Shown("gap", reason=exc.reason)
        return Shown("image" if artifact.kind == "image" else "link", url=url)

    def _first_look(self, artifact: Artifact, detailed: bool) -> Shown | None:
        """What a link becomes without S3 round trips; None for an S3 link in scope (fetched later)."""
        location = artifact.location
        try:
            if is_s3(location):
                self.store.scope.check_s3(location)
                return None
            if is_url(location):
                raise Refused(OUTSIDE)
        except Refused as exc:
            return Shown("refused", text=location, reason=exc.reason)
        return self._local(artifact, detailed)

    def resolve(self, report: Report) -> None:
        # Failures first: they get the embedding budget before passing tests' filmstrips.
        ordered = sorted(report.cases, key=lambda c: (not c.outcome.is_problem, not c.flaky, c.index))
        remote: list[tuple[tuple[int, str, str], Artifact, bool]] = []
        for case in ordered:
            detailed = case.outcome.is_problem or case.flaky
            for owner, artifacts in _artifact_groups(case):
                for artifact in artifacts:
                    key = (case.index, owner, artifact.location)
                    if key in self.shown:
                        continue
                    shown = self._first_look(artifact, detailed)
                    if shown is None:
                        remote.append((key, artifact, detailed))
                        shown = Shown("gap", reason="pending")
                    self.shown[key] = shown
        if remote:
            with ThreadPoolExecutor(max_workers=S3_WORKERS) as pool:
                results = pool.map(lambda item: self._s3(item[1], item[2]), remote)
                for (key, _artifact, _detailed), shown in zip(remote, results):
                    self.shown[key] = shown
        refused: list[str] = []
        for shown in self.shown.values():
            if shown.kind == "gap":
                self.outcome.gaps += 1
            elif shown.kind == "refused":
                refused.append(shown.text)
            elif shown.kind == "image":
                if shown.url.startswith("data:"):
                    self.outcome.embedded += 1
                else:
                    self.outcome.linked += 1
                    origin = _origin(shown.url)
                    if origin:
                        self.outcome.image_origins.add(origin)
        self.outcome.refused = len(refused)
        if refused:
            listed = ", ".join(repr(r[:200]) for r in list(dict.fromkeys(refused))[:5])
            self.outcome.warnings.append(
                f"{len(refused)} artifact link(s) not read, shown as text: outside the report's folder and its run's "
                f"artifacts location: {listed}{' …' if len(set(refused)) > 5 else ''}"
            )
        self.outcome.warnings.extend(self.store.scope.notes)
        for bucket, reason in self.store.s3.bad_buckets.items():
            self.outcome.warnings.append(f"artifacts in s3://{bucket} are not available: {reason}")


def _artifact_groups(case: Case) -> list[tuple[str, list[Artifact]]]:
    groups = [("", case.artifacts)]
    groups += [(f"attempt{n}", attempt.artifacts) for n, attempt in enumerate(case.earlier) if attempt.artifacts]
    return groups


def _clip(text: str, limit: int) -> tuple[str, bool]:
    return (text, False) if len(text) <= limit else (text[:limit], True)


def _pre(text: str, limit: int, css: str = "") -> str:
    shown, cut = _clip(text, limit)
    note = f'\n<p class="note">… cut at {limit // 1000} kB of {len(text) // 1000} kB</p>' if cut else ""
    klass = f' class="{css}"' if css else ""
    return f"<pre{klass}>{escape(shown)}</pre>{note}"


class _Page:
    """Renders rows and header from a report and the resolved artifacts."""

    def __init__(self, report: Report, shown: dict[tuple[int, str, str], Shown]) -> None:
        self.report = report
        self.shown = shown

    def _gap(self, artifact: Artifact, shown: Shown) -> str:
        label = escape(artifact_label(artifact))
        if shown.kind == "refused":  # the link as text, never as a URL the browser would load
            return f'<p class="gap">{label} not shown: <code>{escape(shown.text)}</code> ({escape(shown.reason)})</p>'
        return f'<p class="gap">{label} not available: {escape(shown.reason)}</p>'

    def _figure(self, artifact: Artifact, shown: Shown, lazy: bool) -> str:
        if shown.kind in ("gap", "refused"):
            return self._gap(artifact, shown)
        label = escape(artifact_label(artifact))
        # Clicking the image zooms it (report.js); the caption links the file itself at full size.
        full = escape(shown.full or shown.url)
        link = f' · <a class="full" href="{full}" target="_blank" rel="noopener noreferrer">full size</a>'
        if shown.url.startswith("data:"):
            return (
                f'<figure><img class="zoomable" src="{shown.url}" alt="{label}" data-label="{label}" data-full="{full}">'
                f'<figcaption><span class="cap">{label}</span>{link}</figcaption></figure>'
            )
        loading = ' loading="lazy"' if lazy else ""
        return (
            f'<figure><img class="zoomable" src="{escape(shown.url)}" alt="{label}" data-label="{label}" data-full="{full}"{loading}>'
            f'<figcaption><span class="cap">{label}</span>{link}</figcaption></figure>'
        )

    def _artifacts(self, case: Case, owner: str, artifacts: list[Artifact], lazy: bool) -> list[str]:
        parts: list[str] = []

        def look(artifact: Artifact) -> Shown:
            return self.shown.get((case.index, owner, artifact.location), Shown("gap", reason="not resolved"))

        images = [a for a in artifacts if a.kind == "image" and not a.in_filmstrip]
        if images:
            parts.append('<div class="shots">' + "".join(self._figure(a, look(a), lazy) for a in images) + "</div>")
        frames = sorted((a for a in artifacts if a.in_filmstrip), key=lambda a: a.name)
        if frames:
            figures = "".join(
                f'<div class="frame"{"" if number == 1 else " hidden"}>{self._figure(frame, look(frame), lazy=True)}</div>'
                for number, frame in enumerate(frames, 1)
            )
            parts.append(
                f'<div class="filmstrip" tabindex="0" aria-label="filmstrip, {len(frames)} frames">{figures}'
                '<div class="nav"><button type="button" class="prev">◀ prev</button><span class="pos"></span>'
                '<button type="button" class="next">next ▶</button></div></div>'
            )
        links = []
        for artifact in artifacts:
            if artifact.kind == "image":
                continue
            shown = look(artifact)
            if shown.kind in ("gap", "refused"):
                parts.append(self._gap(artifact, shown))
                continue
            if shown.kind == "text":
                parts.append(f"<h4>{escape(artifact_label(artifact))}</h4>" + _pre(shown.text, MAX_TEXT_SHOWN))
            note = f' <span class="note">({escape(shown.reason)})</span>' if shown.reason else ""
            links.append(f'<a href="{escape(shown.url)}" target="_blank" rel="noopener noreferrer">{escape(artifact_label(artifact))}</a>{note}')
        if links:
            parts.append('<p class="links">' + " ".join(links) + "</p>")
        return parts

    def _attempt(self, case: Case, number: int, attempt: Attempt) -> str:
        parts = [f'<div class="attempt"><p><b>earlier attempt ({escape(attempt.source)})</b>: {escape(attempt.kind)}</p>']
        if attempt.message:
            parts.append(_pre(unwrap_phase(attempt.message), MAX_TRACE, "message"))
        if attempt.text:
            parts.append(_pre(attempt.text, MAX_TRACE))
        parts += self._artifacts(case, f"attempt{number}", attempt.artifacts, lazy=False)
        return "".join(parts) + "</div>"

    def _facts_line(self, case: Case) -> str:
        bits = html_parts.fact_bits(case.props)
        if case.offset_s is not None:
            bits.append(f"started at {format_seconds(case.offset_s)}, wall {format_seconds(case.wall_s)}")
        return f'<p class="note facts-line">{escape(" · ".join(bits))}</p>' if bits else ""

    def _props_table(self, case: Case) -> str:
        rows = [
            f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>"
            for k, v in case.properties
            if not k.startswith(junit.ARTIFACT_PREFIX)
        ]
        return f'<details><summary>properties ({len(rows)})</summary><table class="props">{"".join(rows)}</table></details>' if rows else ""

    def row(self, case: Case, open_details: bool) -> str:
        detailed = case.outcome.is_problem or case.flaky
        outcome = case.outcome
        message_line = unwrap_phase(case.message).strip().splitlines()[0][:300] if case.message.strip() else ""
        search = f"{case.nodeid} {message_line}".lower()
        tags = '<span class="tag">flaky</span>' if case.flaky else ""
        if case.attempts and case.attempts > 1:
            tags += f'<span class="tag">{case.attempts} invocations</span>'
        note = f'<span class="note">{escape(message_line[:140])}</span>' if outcome.is_problem and message_line else ""
        body: list[str] = []
        if case.message.strip() and outcome is not Outcome.PASSED:
            body.append(_pre(unwrap_phase(case.message), MAX_TRACE, "message"))
        if case.text and detailed:
            body.append(_pre(case.text, MAX_TRACE))
        for warning in case.warnings:
            body.append(f'<p class="warning">capture warning: {escape(warning)}</p>')
        for cause in case.infra_failures:
            body.append(f'<p class="warning">infrastructure fault (retried): {escape(cause)}</p>')
        body += self._artifacts(case, "", case.artifacts, lazy=not open_details)
        for number, attempt in enumerate(case.earlier):
            body.append(self._attempt(case, number, attempt))
        if (case.output or case.errout) and detailed:
            captured = "\n".join(t for t in (case.output, case.errout) if t)
            body.append(f"<details><summary>captured output</summary>{_pre(captured, MAX_OUTPUT)}</details>")
        body.append(self._facts_line(case))
        if detailed:
            body.append(self._props_table(case))
        return (
            f'<li class="test" id="t{case.index}" data-outcome="{outcome.value}" data-flaky="{int(case.flaky)}" '
            f'data-problem="{int(outcome.is_problem)}" data-search="{escape(search)}" data-name="{escape(case.nodeid)}" '
            f'data-time="{case.time:.4f}" data-rank="{html_parts.RANK[outcome]}" data-index="{case.index}">'
            f'<details{" open" if open_details else ""}><summary><span class="badge o-{outcome.value}">{escape(outcome.label)}</span>'
            f'<span class="name">{escape(case.nodeid)}</span>{tags}{note}<span class="time">{escape(format_seconds(case.time))}</span></summary>'
            f'<div class="body">{"".join(body)}</div></details></li>'
        )

    def header(self, options: HtmlOptions) -> str:
        report = self.report
        counts = report.count()
        problems = sum(n for o, n in counts.items() if o.is_problem)
        verdict = '<li class="verdict-failed"><b>FAILED</b></li>' if problems else '<li class="verdict-passed"><b>PASSED</b></li>'
        totals = [verdict, f"<li><b>{len(report.cases)}</b> tests</li>"]
        totals += [f'<li><span class="badge o-{o.value}">{escape(o.label)}</span> <b>{counts[o]}</b></li>' for o in OUTCOMES if counts[o]]
        if report.flaky:
            totals.append(f'<li><span class="tag">flaky</span> <b>{len(report.flaky)}</b></li>')
        facts = "".join(f"<span>{escape(f)}</span>" for f in run_facts(report))
        more = [f"reports: {', '.join(report.sources)}"]
        if report.run.get(junit.ARTIFACTS_LOCATION):
            more.append(f"artifacts: {report.run[junit.ARTIFACTS_LOCATION]}")
        if report.timestamp:
            more.append(f"started {report.timestamp}")
        generated = f"generated {time.strftime('%Y-%m-%d %H:%M:%S %Z')}"
        if any(is_s3(a.location) for c in report.cases for a in c.artifacts):
            generated += f"; S3 links expire after {_duration(options.expires_s)} (or with the credentials that signed them)"
        more.append(generated)
        return (
            f'<p class="facts">{facts}</p><ul class="totals">{"".join(totals)}</ul>'
            f'<p class="facts">{"".join(f"<span>{escape(m)}</span>" for m in more)}</p>'
        )

    def buttons(self) -> str:
        counts = self.report.count()
        problems = sum(n for o, n in counts.items() if o.is_problem)
        items = [("all", "All", len(self.report.cases))]
        if problems:
            items.append(("problems", "Problems", problems))
        items += [(o.value, o.label.capitalize(), counts[o]) for o in OUTCOMES if counts[o]]
        if self.report.flaky:
            items.append(("flaky", "Flaky", len(self.report.flaky)))
        return "".join(
            f'<button type="button" data-filter="{key}" aria-pressed="{"true" if key == "all" else "false"}">{escape(label)} ({n})</button>'
            for key, label, n in items
        )


def _duration(seconds: int) -> str:
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def _static(name: str) -> str:
    return resources.files("lambda_ui.runner.reports").joinpath("static").joinpath(name).read_text(encoding="utf-8")


def render(report: Report, options: HtmlOptions, store: ArtifactStore, earlier: Sequence[Report] = ()) -> tuple[str, HtmlOutcome]:
    """The page, and what became of the artifacts; ``earlier`` (oldest first) adds the history panel."""
    outcome = HtmlOutcome()
    resolver = _Resolver(store, options, outcome)
    resolver.resolve(report)
    page = _Page(report, resolver.shown)
    opened = {c.index for c in report.problems[:OPEN_PROBLEMS]}
    groups = html_parts.group_by_file(report.cases)
    files = "\n".join(
        html_parts.group_open(group, number, "\n".join(page.row(case, case.index in opened) for case in group.cases))
        for number, group in enumerate(groups)
    )
    run_id = report.run.get(junit.RUN_ID)
    title = options.title or (f"UI test report: run {run_id}" if run_id else "UI test report")
    nonce = secrets.token_urlsafe(16)
    html = string.Template(_static("report.html")).substitute(
        nonce=nonce,
        img_src=" ".join(["data:", "'self'", *sorted(outcome.image_origins)]),
        title=escape(title),
        css=_static("report.css"),
        js=_static("report.js"),
        header=page.header(options),
        environment=html_parts.environment(report),
        timeline=timeline.render(report.cases, report.wall_s),
        files_chart=html_parts.file_chart(groups),
        history=html_parts.history_panel([*earlier, report]) if earlier else "",
        buttons=page.buttons(),
        files=files,
    )
    return html, outcome


def write_html(report: Report, options: HtmlOptions, scope: Scope, reader: S3Reader, earlier: Sequence[Report] = ()) -> HtmlOutcome:
    html, outcome = render(report, options, ArtifactStore(scope=scope, s3=reader), earlier)
    target = options.output
    try:
        write_atomic(target, lambda path: path.write_text(html, encoding="utf-8"))
    except OSError as exc:
        raise ReportError(f"{target}: cannot write: {exc.strerror or exc}") from None
    return outcome

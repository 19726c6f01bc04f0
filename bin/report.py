"""``lambda-ui report``: read, merge, publish and localise the JUnit reports of a UI run.

    lambda-ui report summary reports/ui.xml            # what failed, with artifact links
    lambda-ui report merge merged.xml 'shards/*.xml'   # CI shards and reruns as one report
    lambda-ui report html reports/ui.xml -o report.html
    lambda-ui report download reports/ui.xml ci-artifacts/

Exit codes (docs/reports.md):

- 0: done; for ``summary``, no test failed or errored;
- 1: ``summary``: the report has failed or errored tests (infrastructure outcomes included);
  ``download``: the copy was written, but some links were skipped (out of the report's scope,
  or keys this folder cannot hold; listed on stderr);
- 2: usage error, or an input that cannot be used (missing, unreadable, too large,
  not well-formed, unsafe XML, nested too deep, an unreadable encoding, S3 bucket missing
  or unreachable); nothing was written;
- 3: internal error (a bug; ``LAMBDA_UI_REPORT_DEBUG=1`` shows the traceback);
- 130: interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from lambda_ui.runner.argtypes import non_negative_int, positive_float, positive_int
from lambda_ui.runner.reports import download as download_mod
from lambda_ui.runner.reports import html as html_mod
from lambda_ui.runner.reports import merge as merge_mod
from lambda_ui.runner.reports import summary as summary_mod
from lambda_ui.runner.reports.safety import DEFAULT_MAX_SIZE_MB, ReportError
from lambda_ui.runner.reports.scope import build_scope
from lambda_ui.runner.reports.sources import DEFAULT_EXPIRES_S, MAX_EXPIRES_S, S3Reader, expand_inputs

PROG = "lambda-ui report"
EXIT_OK = 0
EXIT_TESTS_FAILED = 1
EXIT_SKIPPED = 1  # download: written, but some links skipped
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130
DEBUG_ENV = "LAMBDA_UI_REPORT_DEBUG"


def _expires(text: str) -> int:
    value = non_negative_int(text)
    if not 1 <= value <= MAX_EXPIRES_S:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_EXPIRES_S} seconds (7 days, the S3 limit), got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Read the JUnit reports of pytest-lambda-ui runs (local or --lambda): summarise, merge, "
        "render as one HTML file, or download their S3 artifacts.",
        epilog="Exit codes: 0 done (summary: no failed or errored test); 1 summary: the report has failed or "
        "errored tests, download: some links were skipped; 2 usage error or unusable input (nothing written); "
        "3 internal error; 130 interrupted. See docs/reports.md.",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--max-size-mb", type=positive_float, default=DEFAULT_MAX_SIZE_MB, metavar="MB",
        help="refuse report files larger than this (default: %(default)g)",
    )
    scoped = argparse.ArgumentParser(add_help=False)
    scoped.add_argument(
        "--artifacts-location", action="append", default=[], metavar="LOC",
        help="read artifacts only under this s3://bucket/prefix or folder (repeatable), instead of the run's "
        "artifacts_location the report names; links elsewhere are shown as text, never fetched",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    summary = sub.add_parser(
        "summary", parents=[common], help="totals, failures with messages and artifact links, flaky tests, cost",
        description="Print a report for a terminal or CI log. Several reports are merged first (as `merge` does). "
        "Exits 1 when any test failed or errored, so a CI step can gate on it.",
    )
    summary.add_argument("reports", nargs="+", metavar="REPORT", help="JUnit file, glob or s3://bucket/key")
    summary.add_argument(
        "--color", nargs="?", const="always", default="auto", choices=("auto", "always", "never"),
        help="colour the output: auto (a terminal without NO_COLOR; the default), always (--color alone), never",
    )
    summary.add_argument("--no-color", dest="color", action="store_const", const="never", help="same as --color=never")
    summary.add_argument("--slowest", type=non_negative_int, default=10, metavar="N", help="list the N slowest tests (default: %(default)s; 0: none)")
    summary.add_argument("--max-failures", type=non_negative_int, default=30, metavar="N", help="tests listed per section (default: %(default)s; 0: all)")
    summary.add_argument("--message-lines", type=non_negative_int, default=4, metavar="N", help="lines of each failure message (default: %(default)s)")

    merge = sub.add_parser(
        "merge", parents=[common], help="merge JUnit files of CI shards and reruns into one",
        description="Merge JUnit files. A test in several inputs ends with one outcome: passed if any attempt "
        "passed (then marked flaky, earlier failures kept as <flakyFailure>), else the last attempt in input order.",
    )
    merge.add_argument("output", metavar="OUT", help="merged JUnit file to write (a path or s3://bucket/key)")
    merge.add_argument("inputs", nargs="+", metavar="IN", help="JUnit files, globs (quote them) or s3://bucket/key")

    html = sub.add_parser(
        "html", parents=[common, scoped], help="one self-contained HTML file: totals, filterable tests, screenshots, timeline",
        description="Render a report as one HTML file with inline CSS and JavaScript. Local screenshots are "
        "embedded; S3 artifacts are linked with presigned URLs. Only artifacts under the report's folder or its "
        "run's artifacts_location are read; any other link is shown as text.",
    )
    html.add_argument("reports", nargs="+", metavar="REPORT", help="JUnit file, glob or s3://bucket/key (several are merged)")
    html.add_argument("-o", "--output", default="report.html", metavar="FILE", help="HTML file to write (default: %(default)s)")
    html.add_argument(
        "--expires", type=_expires, default=DEFAULT_EXPIRES_S, metavar="SECONDS",
        help="lifetime of presigned S3 links (default: %(default)s = 24 h; links signed with temporary credentials die with them)",
    )
    html.add_argument(
        "--artifacts-root", action="append", default=[], metavar="DIR",
        help="folder that relative artifact paths start from: where pytest ran (default: the current folder, then the report's)",
    )
    html.add_argument("--no-embed", action="store_true", help="link local screenshots relative to the HTML file instead of embedding them")
    html.add_argument(
        "--embed-max-mb", type=positive_float, default=20.0, metavar="MB",
        help="embed local images up to this many MB in total, failures first; later ones are linked (default: %(default)g)",
    )
    html.add_argument("--title", help="page title (default: from the run id)")
    html.add_argument(
        "--history", nargs="+", default=[], metavar="OLD",
        help="earlier reports of the same suite, oldest first (files, globs or s3://bucket/key): adds a panel with each "
        "test's pass rate and duration trend, flaky tests marked",
    )

    download = sub.add_parser(
        "download", parents=[common, scoped], help="fetch a report's S3 artifacts and write a copy of the report linking the local files",
        description="Download the s3:// artifacts a report links into DIR/<bucket>/<key> and write a copy of the "
        "report whose properties and [[ATTACHMENT|…]] lines point at them, relative to --link-base (GitLab: the project folder). "
        "Only keys under the run's artifacts_location are fetched. A link outside it, or a key this folder cannot hold "
        "(a part too long for a file name; a/b next to a/b/c), is skipped and listed; the rest is still downloaded, "
        "and the command then exits 1.",
    )
    download.add_argument("report", metavar="REPORT", help="JUnit file or s3://bucket/key")
    download.add_argument("directory", metavar="DIR", help="folder for the artifacts")
    download.add_argument("-o", "--output", metavar="FILE", help="rewritten report (default: DIR/<report file name>)")
    download.add_argument(
        "--link-base", default=".", metavar="DIR",
        help="write links relative to this folder (default: the current one; GitLab resolves them from $CI_PROJECT_DIR)",
    )
    download.add_argument("--absolute", action="store_true", help="write absolute paths instead (Jenkins junit-attachments)")
    download.add_argument("--jobs", type=positive_int, default=8, metavar="N", help="parallel downloads (default: %(default)s)")
    download.add_argument(
        "--max-artifact-mb", type=positive_float, default=50.0, metavar="MB", help="skip artifacts larger than this (default: %(default)g)"
    )
    return parser


def _max_bytes(args: argparse.Namespace) -> int:
    return int(args.max_size_mb * 1_000_000)


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        print(f"{PROG}: warning: {warning}", file=sys.stderr)


def _summary(args: argparse.Namespace) -> int:
    report = merge_mod.read_report(expand_inputs(args.reports), _max_bytes(args), S3Reader())
    _warn(report.warnings)
    style = summary_mod.Style(summary_mod.use_color(args.color, sys.stdout))
    print(summary_mod.render(report, style, slowest=args.slowest, max_failures=args.max_failures, message_lines=args.message_lines))
    return EXIT_TESTS_FAILED if report.problems else EXIT_OK


def _merge(args: argparse.Namespace) -> int:
    reader = S3Reader()
    inputs = expand_inputs(args.inputs)
    result = merge_mod.merge_files(inputs, _max_bytes(args), reader)
    merge_mod.write_xml(result.xml, args.output, reader)
    _warn(result.warnings)
    counts = ", ".join(f"{n} {o.label}" for o, n in result.counts.items() if n)
    print(
        f"merged {len(inputs)} file(s) into {args.output}: {result.tests} tests ({counts}); "
        f"{result.repeated} seen more than once, {result.flaky} flaky"
    )
    return EXIT_OK


def _html(args: argparse.Namespace) -> int:
    reader = S3Reader()
    inputs = expand_inputs(args.reports)
    report = merge_mod.read_report(inputs, _max_bytes(args), reader)
    folders = [Path(i).resolve().parent for i in inputs if not i.startswith("s3://")]
    anchors = [Path(p) for p in args.artifacts_root] or [Path.cwd(), *folders]
    scope = build_scope(report.run, folders, anchors, args.artifacts_location or None)
    options = html_mod.HtmlOptions(
        output=Path(args.output),
        expires_s=args.expires,
        embed=not args.no_embed,
        embed_max_bytes=int(args.embed_max_mb * 1_000_000),
        title=args.title,
    )
    earlier = [merge_mod.read_report([location], _max_bytes(args), reader) for location in expand_inputs(args.history)] if args.history else []
    outcome = html_mod.write_html(report, options, scope, reader, earlier)
    _warn(report.warnings + outcome.warnings)
    refused = f", {outcome.refused} not read (outside the report's scope)" if outcome.refused else ""
    print(
        f"wrote {args.output}: {len(report.cases)} tests, {outcome.embedded} image(s) embedded, {outcome.linked} linked, "
        f"{outcome.gaps} not available{refused}"
    )
    return EXIT_OK


def _download(args: argparse.Namespace) -> int:
    options = download_mod.DownloadOptions(
        directory=Path(args.directory),
        output=Path(args.output) if args.output else None,
        link_base=Path(args.link_base),
        jobs=max(1, args.jobs),
        max_artifact_bytes=int(args.max_artifact_mb * 1_000_000),
        absolute=args.absolute,
    )
    outcome = download_mod.download(args.report, options, _max_bytes(args), S3Reader(), args.artifacts_location or None)
    _warn(outcome.warnings)
    for reason in outcome.skipped:
        print(f"{PROG}: skipped: {reason}", file=sys.stderr)
    print(f"downloaded {outcome.downloaded} of {outcome.total} S3 artifact(s) into {args.directory}; wrote {outcome.output}")
    if outcome.skipped:
        print(f"{PROG}: {len(outcome.skipped)} link(s) skipped (listed above); exit {EXIT_SKIPPED}", file=sys.stderr)
        return EXIT_SKIPPED
    return EXIT_OK


COMMANDS = {"summary": _summary, "merge": _merge, "html": _html, "download": _download}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help is 0, a usage error 2
        return int(exc.code or 0)
    try:
        return COMMANDS[args.command](args)
    except ReportError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RecursionError:  # a safety net: parse_xml already refuses deep nesting
        print(f"{PROG}: error: an input is nested too deeply to process", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `lambda-ui report summary r.xml | head`
        return EXIT_OK
    except Exception as exc:  # a bug: one line for the CI log, the traceback on request
        if os.environ.get(DEBUG_ENV):
            raise
        print(f"{PROG}: internal error: {type(exc).__name__}: {exc} (set {DEBUG_ENV}=1 for the traceback, and please report it)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())

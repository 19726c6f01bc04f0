"""The suite's bundle on S3: selected by :mod:`lambda_ui.runner.bundle`'s rules, uploaded once per content.

The key is the bundle's hash, so a bundle already in the bucket is not sent again.
"""

from __future__ import annotations

from typing import Any

import pytest

from lambda_ui.runner import bundle as bundling
from lambda_ui.runner.aws import s3
from lambda_ui.runner.dotenv_files import dotenv_notes
from lambda_ui.runner.options import LambdaSettings
from lambda_ui.runner.outside_imports import outside_warning
from lambda_ui.runner.plugin import collection_reads_key
from lambda_ui.runner.terminal import write_line


def select_bundle(session: pytest.Session, local_artifacts: list[str]) -> bundling.Selection:
    """The bundle's files; ``local_artifacts`` (the local artifacts folders) are the run's outputs, left out."""
    reads = session.config.stash.get(collection_reads_key, None)
    rules = bundling.rules_for(session, local_artifacts, read=reads.paths if reads is not None else ())
    return bundling.select(session.config.rootpath, rules)


def upload_bundle(
    session: pytest.Session, settings: LambdaSettings, location: s3.S3Location, client: Any, local_artifacts: list[str]
) -> tuple[dict[str, str], bundling.Selection]:
    """Build the bundle and put it under ``location``'s bucket unless it is there: the event's
    bundle reference, and what it holds."""
    config = session.config
    root = config.rootpath
    selection = select_bundle(session, local_artifacts)
    dotenv = dotenv_notes(root, selection, settings.env)
    for line in selection.warnings(said=dotenv):  # once, before anything is uploaded
        write_line(config, f"lambda: bundle: {line}", yellow=True)
    for line, is_warning in dotenv.values():
        write_line(config, f"lambda: bundle: {line}", yellow=is_warning)
    if (outside := outside_warning(root)) is not None:
        write_line(config, f"lambda: bundle: {outside}", yellow=True)
    try:
        files = selection.files
        size = bundling.check_size(root, files, settings.max_bundle_bytes)
        built = bundling.build_bundle(root, files)
    except bundling.BundleProblem as exc:
        raise pytest.UsageError(str(exc)) from None
    key = built.key
    try:
        client.head_object(Bucket=location.bucket, Key=key)
        uploaded = False
    except Exception:  # not there (or not visible): upload it
        s3.put_bytes(client, location, key, built.data, "application/zip")
        uploaded = True
    write_line(
        config,
        f"lambda: bundle {built.sha256[:12]} ({built.files} files, {size / 1e6:.1f} MB) "
        f"{'uploaded to' if uploaded else 'already in'} {location.url(key)}",
    )
    return {"bucket": location.bucket, "key": key, "sha256": built.sha256}, selection

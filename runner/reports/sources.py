"""Where reports and artifacts are read from: local files and ``s3://`` objects.

A report's artifact links are either paths (relative to the directory pytest
ran in, or absolute) or ``s3://bucket/key`` URLs. :class:`ArtifactStore`
answers the few questions the readers ask about one link: can I read it (up to
a size), how big is it, what URL should a browser use; it reads only what the
report's :class:`~lambda_ui.runner.reports.scope.Scope` allows. S3 problems come back as
:class:`FetchError` with a reason a person can read; a bucket that is missing
or unreachable is remembered, so one bad bucket costs one round trip, not one
per artifact.
"""

from __future__ import annotations

import glob
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

from lambda_ui.runner.aws import s3
from lambda_ui.runner.reports.atomic import write_bytes_atomic
from lambda_ui.runner.reports.safety import ReportError, check_size

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from lambda_ui.runner.reports.scope import Scope
else:
    S3Client = Any

#: Most the presigned links may live: S3 refuses SigV4 links valid for longer than 7 days.
MAX_EXPIRES_S = 7 * 24 * 3600
DEFAULT_EXPIRES_S = 24 * 3600


class FetchError(Exception):
    """One artifact or report could not be read; ``bucket_level`` when no key in its bucket can be."""

    def __init__(self, reason: str, bucket_level: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.bucket_level = bucket_level


is_s3 = s3.is_s3_url


def split_s3(url: str) -> tuple[str, str]:
    """``s3://bucket/key`` as (bucket, key), by the runner's one parser; :class:`FetchError`
    for anything else, an empty key included."""
    try:
        bucket, key = s3.split_s3_url(url)
    except ValueError:
        bucket, key = "", ""
    if not key:
        raise FetchError(f"{url!r} is not an s3://bucket/key URL")
    return bucket, key


def expand_inputs(patterns: list[str]) -> list[str]:
    """Paths and ``s3://`` URLs in the order given; a glob becomes its matches, sorted.

    A glob that matches nothing is an error, so a CI job that lost a shard says so.
    """
    found: list[str] = []
    for pattern in patterns:
        if is_s3(pattern) or not glob.has_magic(pattern):
            found.append(pattern)
            continue
        matches = sorted(m for m in glob.glob(pattern, recursive=True) if os.path.isfile(m))
        if not matches:
            raise ReportError(f"{pattern}: no file matches this pattern")
        found.extend(matches)
    return found


def _client_error_code(exc: ClientError) -> tuple[str, int | None]:
    code = str(exc.response.get("Error", {}).get("Code", ""))
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code, status


class S3Reader:
    """One lazily created S3 client shared by threads, with bucket failures remembered."""

    def __init__(self, client: S3Client | None = None) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._bad_buckets: dict[str, str] = {}

    @property
    def client(self) -> S3Client:
        with self._lock:
            if self._client is None:
                self._client = s3.make_client(max_pool_connections=16)
            return self._client

    @property
    def bad_buckets(self) -> dict[str, str]:
        with self._lock:
            return dict(self._bad_buckets)

    def explain(self, exc: Exception, bucket: str, key: str) -> FetchError:
        url = f"s3://{bucket}/{key}"
        if isinstance(exc, ClientError):
            code, status = _client_error_code(exc)
            if code == "NoSuchBucket":
                return self._bucket_error(bucket, f"bucket {bucket!r} does not exist at {self.client.meta.endpoint_url}")
            if code in ("NoSuchKey", "404") or status == 404:
                return FetchError(f"{url} is not in S3 (no such key: deleted by a lifecycle rule, or never uploaded)")
            if code in ("AccessDenied", "403", "Forbidden") or status == 403:
                return FetchError(f"access to {url} is denied; the credentials need s3:GetObject on it")
            if code == "InvalidRange":
                return FetchError(f"{url} is empty")
            return FetchError(f"S3 error on {url}: {code or status}")
        if isinstance(exc, (EndpointConnectionError, NoCredentialsError, BotoCoreError)):
            return self._bucket_error(bucket, s3.describe_error(exc, bucket, self.client))
        return FetchError(f"S3 error on {url}: {exc!r}")

    def _bucket_error(self, bucket: str, reason: str) -> FetchError:
        with self._lock:
            self._bad_buckets.setdefault(bucket, reason)
        return FetchError(reason, bucket_level=True)

    def _check_bucket(self, bucket: str) -> None:
        with self._lock:
            reason = self._bad_buckets.get(bucket)
        if reason is not None:
            raise FetchError(reason, bucket_level=True)

    def read(self, url: str, max_bytes: int) -> bytes:
        """The object's bytes; :class:`FetchError` when missing or over ``max_bytes``."""
        bucket, key = split_s3(url)
        self._check_bucket(bucket)
        try:
            answer = self.client.get_object(Bucket=bucket, Key=key)
        except Exception as exc:
            raise self.explain(exc, bucket, key) from None
        body = answer["Body"]
        try:
            size = int(answer.get("ContentLength") or 0)
            if size > max_bytes:
                raise FetchError(f"{url} is {size / 1_000_000:.1f} MB, over the {max_bytes / 1_000_000:.0f} MB limit")
            data = body.read(max_bytes + 1)
        except FetchError:
            raise
        except Exception as exc:
            raise self.explain(exc, bucket, key) from None
        finally:
            body.close()
        if len(data) > max_bytes:
            raise FetchError(f"{url} is over the {max_bytes / 1_000_000:.0f} MB limit")
        return data

    def size(self, url: str) -> int:
        """The object's size in bytes (a one-byte ranged GET tells a missing bucket from a missing key)."""
        bucket, key = split_s3(url)
        self._check_bucket(bucket)
        try:
            answer = self.client.get_object(Bucket=bucket, Key=key, Range="bytes=0-0")
            answer["Body"].close()
        except Exception as exc:
            raise self.explain(exc, bucket, key) from None
        total = str(answer.get("ContentRange") or "").rpartition("/")[2]
        return int(total) if total.isdigit() else int(answer.get("ContentLength") or 0)

    def download(self, url: str, dest: Path, max_bytes: int) -> int:
        """Save the object at ``dest`` (atomically); return its size.

        A file system that cannot hold it there (a name too long, a file where
        a folder must be) is an ``OSError`` for the caller to explain.
        """
        data = self.read(url, max_bytes)
        write_bytes_atomic(dest, data)
        return len(data)

    def presign(self, url: str, expires_s: int) -> str:
        bucket, key = split_s3(url)
        try:
            return str(self.client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_s))
        except NoCredentialsError:
            raise FetchError("no AWS credentials to sign a link with; run `download` first, or configure credentials") from None
        except Exception as exc:
            raise FetchError(f"cannot sign a link to {url}: {exc}") from None


def read_input(location: str, max_bytes: int, reader: S3Reader | None = None) -> bytes:
    """A report's bytes from a path or ``s3://`` URL, or one :class:`ReportError`."""
    if is_s3(location):
        reader = reader or S3Reader()
        try:
            split_s3(location)
            check_size(location, reader.size(location), max_bytes)
            return reader.read(location, max_bytes)
        except FetchError as exc:
            raise ReportError(f"{location}: {exc.reason}") from None
    path = Path(location)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise ReportError(f"{location}: is a folder, not a JUnit file")
        check_size(location, size, max_bytes)
        with path.open("rb") as handle:
            return handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise ReportError(f"{location}: no such file") from None
    except OSError as exc:
        raise ReportError(f"{location}: cannot read: {exc.strerror or exc}") from None


@dataclass
class ArtifactStore:
    """Reads a report's artifact links for one output, only those its :class:`Scope` allows.

    Every method raises :class:`lambda_ui.runner.reports.scope.Refused` for a link out of
    scope (before touching it), and :class:`FetchError` for one that cannot be read.
    """

    scope: Scope
    s3: S3Reader

    def local_path(self, location: str) -> Path:
        return self.scope.locate(location)

    def size(self, location: str) -> int:
        if is_s3(location):
            self.scope.check_s3(location)
            return self.s3.size(location)
        return self.local_path(location).stat().st_size

    def presign(self, location: str, expires_s: int) -> str:
        self.scope.check_s3(location)
        return self.s3.presign(location, expires_s)

    def read(self, location: str, max_bytes: int) -> bytes:
        if is_s3(location):
            self.scope.check_s3(location)
            return self.s3.read(location, max_bytes)
        path = self.local_path(location)
        try:
            with path.open("rb") as handle:
                data = handle.read(max_bytes + 1)
        except OSError as exc:
            raise FetchError(f"cannot read {location}: {exc.strerror or exc}") from None
        if len(data) > max_bytes:
            raise FetchError(f"{location} is over the {max_bytes / 1_000_000:.1f} MB limit")
        return data

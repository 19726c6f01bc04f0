"""The S3 calls the runner makes, with botocore errors turned into clear ones.

Endpoints come from boto3's own configuration (``AWS_ENDPOINT_URL_S3``,
``AWS_ENDPOINT_URL``), so a loopback S3 needs no special code here. boto3 and
botocore are imported where a call needs them: parsing an ``s3://`` URL costs
nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
else:
    S3Client = Any


class S3Problem(Exception):
    """An S3 failure explained for a person: what went wrong and what to do."""


#: The scheme of every S3 location the runner reads or writes.
S3_SCHEME = "s3://"


def is_s3_url(value: str) -> bool:
    """Whether ``value`` names S3 (``s3://…``) rather than a local path."""
    return value.startswith(S3_SCHEME)


def split_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/key`` as ``(bucket, key)``; the key may be empty, and keeps its slashes.

    The one parser of S3 URLs: callers that need a key (or a clean prefix) check that themselves.
    Raises :class:`ValueError` for anything that is not ``s3://`` with a bucket.
    """
    if not is_s3_url(url):
        raise ValueError(f"not an s3:// URL: {url!r}")
    bucket, _, key = url[len(S3_SCHEME) :].partition("/")
    if not bucket:
        raise ValueError(f"no bucket in {url!r}; expected s3://bucket/prefix")
    return bucket, key


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str  # no leading or trailing slash; may be empty

    @classmethod
    def parse(cls, url: str) -> S3Location:
        bucket, prefix = split_s3_url(url)
        return cls(bucket=bucket, prefix=prefix.strip("/"))

    def key(self, *parts: str) -> str:
        return "/".join(p.strip("/") for p in (self.prefix, *parts) if p)

    def url(self, key: str) -> str:
        return f"{S3_SCHEME}{self.bucket}/{key}"

    def as_url(self) -> str:
        """The location itself: ``s3://bucket/prefix``, or ``s3://bucket`` without a prefix."""
        return f"{S3_SCHEME}{self.bucket}/{self.prefix}".rstrip("/")


def make_client(max_pool_connections: int = 10, connect_timeout: float = 5.0) -> S3Client:
    """An S3 client with standard retries; S3 PUTs are idempotent, so retrying them is safe."""
    import boto3
    from botocore.config import Config

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    config = Config(
        connect_timeout=connect_timeout,
        read_timeout=60,
        max_pool_connections=max_pool_connections,
        retries={"mode": "standard", "max_attempts": 3},
        signature_version="s3v4",
        s3={"addressing_style": "path"} if _endpoint_is_custom() else {},
    )
    return boto3.client("s3", region_name=region, config=config)


def _endpoint_is_custom() -> bool:
    return bool(os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL"))


def describe_error(exc: Exception, bucket: str, client: S3Client | None = None) -> str:
    """One sentence a user can act on."""
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

    endpoint = client.meta.endpoint_url if client is not None else "the S3 endpoint"
    if isinstance(exc, EndpointConnectionError):
        return (
            f"cannot reach S3 at {endpoint} ({exc.__class__.__name__}). "
            "Check the network, or AWS_ENDPOINT_URL_S3 if you use a local S3."
        )
    if isinstance(exc, NoCredentialsError):
        return "no AWS credentials found for S3. Configure them (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a role)."
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in ("404", "NoSuchBucket") or status == 404:
            return f"bucket {bucket!r} does not exist at {endpoint}. Create it, or fix the s3:// destination."
        if code in ("403", "AccessDenied", "Forbidden") or status == 403:
            return f"access to bucket {bucket!r} is denied at {endpoint}. Check the credentials' permissions."
        return f"S3 error on bucket {bucket!r}: {code or status} {exc}"
    if isinstance(exc, BotoCoreError):
        return f"S3 error on bucket {bucket!r} at {endpoint}: {exc}"
    return f"S3 error on bucket {bucket!r}: {exc!r}"


def check_bucket(location: S3Location, client: S3Client) -> None:
    """Raise :class:`S3Problem` unless the bucket exists and is reachable."""
    from botocore.exceptions import ClientError

    try:
        client.head_bucket(Bucket=location.bucket)
    except ClientError as exc:
        # 403: the bucket exists but these credentials may list only some
        # prefixes (the CI caller policy); writes under ours can still work.
        if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 403:
            return
        raise S3Problem(describe_error(exc, location.bucket, client)) from exc
    except Exception as exc:
        raise S3Problem(describe_error(exc, location.bucket, client)) from exc


def put_bytes(client: S3Client, location: S3Location, key: str, data: bytes, content_type: str) -> None:
    try:
        client.put_object(Bucket=location.bucket, Key=key, Body=data, ContentType=content_type)
    except Exception as exc:
        raise S3Problem(describe_error(exc, location.bucket, client)) from exc

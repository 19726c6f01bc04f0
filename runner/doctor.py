"""The checks of ``lambda-ui doctor``, in the order a first deploy goes wrong.

Credentials and region; the function (exists, package type, architecture, memory,
timeout, concurrency); the bucket (reachable, encryption, public-access block,
lifecycle); the artifacts prefix against the function role; the image against the
packages used here; a browser smoke invocation. Each check gives :class:`Line` s and
what it learned for the later ones; a check whose input is missing (no function, no
bucket) says so instead of failing twice.

Where each check runs: on AWS the prefix goes through ``iam:SimulatePrincipalPolicy``
on the function's role; the local stand-ins have no IAM, so there (or when the caller
may not read IAM) the prefix is compared with the role's policy in the template.
GetFunction, GetAccountSettings and the bucket's settings are not in the template's
CallerPolicy: a CI role gets "could not check" lines for them, never a failure.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lambda_ui.contract import CONTRACT_VERSION
from lambda_ui.runner.aws.lambda_client import LambdaFunction, OutcomeKind, runtime_mismatch
from lambda_ui.runner.aws.lambda_smoke import invoke_smoke
from lambda_ui.runner.doctor_lines import Line
from lambda_ui.runner.doctor_policy import MIN_MEMORY_MB, WriteRule, lifecycle_expiry, prefix_allowed

#: One invocation runs one test, a cold Chrome start (5-10 s on Lambda) included.
MIN_TIMEOUT_S = 30
ARCHITECTURES = ("x86_64", "arm64")
DOCS = "docs/deploy.md"
_DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "Forbidden", "403")
_PUBLIC_BLOCKS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


@dataclass(frozen=True)
class DoctorTarget:
    """What ``pytest --lambda`` would use: the function and the artifacts destination."""

    function: str
    bucket: str
    prefix: str


@dataclass
class Clients:
    """boto3 clients, made when a check first needs one (tests hand in stubbed ones)."""

    make: Callable[[str], Any]
    _made: dict[str, Any] = field(default_factory=dict)

    def __call__(self, service: str) -> Any:
        if service not in self._made:
            self._made[service] = self.make(service)
        return self._made[service]


@dataclass
class Learned:
    """What earlier checks found, for the later ones."""

    function_ok: bool = False
    configuration: dict[str, Any] = field(default_factory=dict)
    reserved: int | None = None
    info: dict[str, Any] = field(default_factory=dict)
    bucket_ok: bool = False


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", "")) or str(response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))


def _message(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]


def is_loopback(endpoint: str | None) -> bool:
    host = urlsplit(endpoint or "").hostname or ""
    return host == "localhost" or host.startswith("127.") or host == "::1"


class Doctor:
    """Runs the checks in order; :meth:`checks` yields each line as soon as it is known."""

    def __init__(
        self,
        target: DoctorTarget,
        clients: Clients,
        *,
        write_rule: WriteRule | None = None,
        rule_source: str = "",
        drift: Callable[[dict[str, str]], list[str]] | None = None,
        screenshot_path: Path | None = None,
        environ: dict[str, str] | None = None,
        region_source: str = "",
    ) -> None:
        self.target = target
        self.clients = clients
        self.write_rule = write_rule
        self.rule_source = rule_source or "the template"
        self.drift = drift
        self.screenshot_path = screenshot_path
        self.environ = dict(os.environ if environ is None else environ)
        self.learned = Learned()
        self.region_source = region_source

    def checks(self) -> Iterator[Line]:
        yield from self.credentials()
        yield from self.function()
        yield from self.bucket()
        yield from self.prefix()
        yield from self.image()
        yield from self.smoke()

    # -- where -------------------------------------------------------------------------
    @property
    def local(self) -> bool:
        """Lambda is a stand-in on loopback (``AWS_ENDPOINT_URL_LAMBDA``)."""
        return is_loopback(self.clients("lambda").meta.endpoint_url)

    def _has_endpoint(self, service: str) -> bool:
        return bool(self.environ.get(f"AWS_ENDPOINT_URL_{service.upper()}") or self.environ.get("AWS_ENDPOINT_URL"))

    # -- credentials and region --------------------------------------------------------
    def credentials(self) -> Iterator[Line]:
        import boto3

        session = boto3.session.Session()
        region = self.clients("lambda").meta.region_name
        source = self.region_source or next((name for name in ("AWS_REGION", "AWS_DEFAULT_REGION") if self.environ.get(name)), "profile, or boto3's default")
        yield Line.ok("region", f"{region} ({source})")
        creds = session.get_credentials()
        if creds is None:
            yield Line.fail("credentials", "no AWS credentials found", "configure AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a role")
            return
        found = f"found ({creds.method})"
        if self.local and not self._has_endpoint("sts"):
            yield Line.ok("credentials", f"{found}; identity not asked: Lambda is a local stand-in and no STS endpoint is set")
            return
        try:
            identity = self.clients("sts").get_caller_identity()
        except Exception as exc:
            yield Line.fail("credentials", f"{found} but STS refused them: {_message(exc)}", "refresh or fix the credentials (expired session, wrong profile)")
            return
        yield Line.ok("credentials", f"{found}, identity {identity.get('Arn', '?')}")

    # -- the function ------------------------------------------------------------------
    def function(self) -> Iterator[Line]:
        name = self.target.function
        client = self.clients("lambda")
        where = f"{client.meta.endpoint_url} (region {client.meta.region_name})"
        config: dict[str, Any] = {}
        denied = ""
        try:
            answer = client.get_function(FunctionName=name)
            config = answer.get("Configuration") or {}
            self.learned.reserved = (answer.get("Concurrency") or {}).get("ReservedConcurrentExecutions")
        except Exception as exc:
            code = _code(exc)
            if code == "ResourceNotFoundException":
                yield Line.fail("function", f"{name!r} does not exist at {where}", f"deploy the stack ({DOCS}) or fix --function / lambda_function")
                return
            if code not in _DENIED:
                yield Line.fail("function", f"cannot read {name!r} at {where}: {_message(exc)}", "check the network, AWS_ENDPOINT_URL_LAMBDA and the credentials")
                return
            denied = f"lambda:GetFunction is denied to these credentials ({code})"
            try:
                self.learned.reserved = client.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions")
            except Exception as exc2:
                if _code(exc2) == "ResourceNotFoundException":
                    yield Line.fail("function", f"{name!r} does not exist at {where}", f"deploy the stack ({DOCS}) or fix --function / lambda_function")
                    return
        self.learned.configuration = config
        outcome = LambdaFunction(name, client).invoke({"version": CONTRACT_VERSION, "kind": "info"})
        payload = outcome.payload if outcome.kind is OutcomeKind.OK and isinstance(outcome.payload, dict) else {}
        if payload.get("kind") != "info":
            why = outcome.cause or payload.get("message") or outcome.kind.value
            yield Line.fail("function", f"{name!r} did not answer the info event: {why}", "read the function's log; deploy the image built from this release")
            return
        self.learned.function_ok = True
        self.learned.info = payload
        facts = payload.get("facts") or {}
        # A stand-in on another Python than the runtime: a warning, as pytest --lambda prints it.
        note = f"; note: {mismatch}" if (mismatch := runtime_mismatch(facts)) else ""
        yield Line.ok("function", f"{config.get('FunctionArn', name)} answers (Python {facts.get('python_version', '?')}, Chrome {facts.get('chrome_version') or '?'}){note}")
        yield from self._configuration_lines(config, denied)
        yield from self._concurrency_line()

    def _configuration_lines(self, config: dict[str, Any], denied: str) -> Iterator[Line]:
        limits = self.learned.info.get("limits") or {}
        if config:
            kind = config.get("PackageType", "Zip")
            if kind == "Image":
                yield Line.ok("package type", "Image")
            else:
                yield Line.fail("package type", f"{kind}: Chrome and chromedriver come with the image", f"deploy template.yaml's image function ({DOCS})")
            arch = ",".join(config.get("Architectures") or ["x86_64"])
            if arch in ARCHITECTURES:
                yield Line.ok("architecture", arch)
            else:
                yield Line.fail("architecture", f"{arch} is not one the image is built for", f"deploy with Architecture {' or '.join(ARCHITECTURES)}")
        else:
            yield Line.unchecked("package type", denied, "allow lambda:GetFunction to check it")
            yield Line.unchecked("architecture", denied, "allow lambda:GetFunction to check it")
        memory = int(config.get("MemorySize") or limits.get("memory_mb") or 0)
        if memory >= MIN_MEMORY_MB:
            yield Line.ok("memory", f"{memory} MB")
        else:
            yield Line.fail("memory", f"{memory} MB is below the recommended minimum {MIN_MEMORY_MB} MB: Chrome hangs or is killed", f"deploy with MemorySize {MIN_MEMORY_MB} or more (template default 2048)")
        remaining = limits.get("remaining_ms")
        timeout = int(config.get("Timeout") or (math.ceil(int(remaining) / 1000) if remaining else 0))
        if timeout >= MIN_TIMEOUT_S:
            yield Line.ok("timeout", f"{timeout} s")
        else:
            yield Line.fail("timeout", f"{timeout} s leaves too little for a cold Chrome start and a test", f"deploy with Timeout {MIN_TIMEOUT_S} or more (template default 300)")

    def _concurrency_line(self) -> Iterator[Line]:
        reserved = self.learned.reserved
        if reserved == 0:
            yield Line.fail("concurrency", "reserved concurrency 0: every invocation is throttled", "deploy with ReservedConcurrency 1 or more")
            return
        try:
            account = self.clients("lambda").get_account_settings().get("AccountLimit") or {}
        except Exception as exc:
            own = f"reserved {reserved}" if reserved else "not reserved"
            yield Line.unchecked("concurrency", f"{own}; the account's pool: {_code(exc) or _message(exc)} on lambda:GetAccountSettings")
            return
        unreserved = int(account.get("UnreservedConcurrentExecutions", 0))
        total = account.get("ConcurrentExecutions", "?")
        if reserved:
            yield Line.ok("concurrency", f"reserved {reserved} (a run's window); the account keeps {unreserved} of {total} unreserved for other functions")
        elif unreserved > 0:
            yield Line.ok("concurrency", f"not reserved: shares the account's unreserved pool of {unreserved} (of {total}) with other functions")
        else:
            yield Line.fail("concurrency", f"not reserved, and the account's unreserved pool is empty (0 of {total})", "reserve concurrency for the function or raise the account's quota")

    # -- the bucket --------------------------------------------------------------------
    def bucket(self) -> Iterator[Line]:
        bucket = self.target.bucket
        if not bucket:
            yield Line.fail("bucket", "no S3 artifacts destination", "give --bucket, or artifacts = s3://BUCKET/runs in the ini file as pytest --lambda needs")
            return
        s3 = self.clients("s3")
        try:
            s3.head_bucket(Bucket=bucket)
            yield Line.ok("bucket", f"{bucket} is reachable at {s3.meta.endpoint_url}")
        except Exception as exc:
            code = _code(exc)
            if code in ("404", "NoSuchBucket"):
                yield Line.fail("bucket", f"{bucket!r} does not exist at {s3.meta.endpoint_url}", "deploy the stack (its ArtifactsBucket output names the bucket) or fix --bucket / artifacts")
                return
            if code not in _DENIED:
                yield Line.fail("bucket", f"cannot reach {bucket!r} at {s3.meta.endpoint_url}: {_message(exc)}", "check the network, AWS_ENDPOINT_URL_S3 and the credentials")
                return
            yield Line.ok("bucket", f"{bucket} exists (HeadBucket is denied to these credentials, as the CallerPolicy lists runs/* only)")
        self.learned.bucket_ok = True
        yield self._setting("encryption", lambda: s3.get_bucket_encryption(Bucket=bucket), self._encryption, "s3:GetEncryptionConfiguration")
        yield self._setting("public access", lambda: s3.get_public_access_block(Bucket=bucket), self._public_access, "s3:GetBucketPublicAccessBlock")
        yield self._setting("lifecycle", lambda: s3.get_bucket_lifecycle_configuration(Bucket=bucket), self._lifecycle, "s3:GetLifecycleConfiguration")

    def _setting(self, topic: str, read: Callable[[], Any], judge: Callable[[Any], Line], permission: str) -> Line:
        try:
            return judge(read())
        except Exception as exc:
            code = _code(exc)
            if code in _DENIED:
                return Line.unchecked(topic, f"{permission} is denied to these credentials ({code})")
            if code in ("ServerSideEncryptionConfigurationNotFoundError", "NoSuchPublicAccessBlockConfiguration", "NoSuchLifecycleConfiguration"):
                return judge(None)
            return Line.fail(topic, f"cannot read it: {_message(exc)}", "check the credentials")

    def _encryption(self, answer: Any) -> Line:
        rules = ((answer or {}).get("ServerSideEncryptionConfiguration") or {}).get("Rules") or []
        algorithms = [str((r.get("ApplyServerSideEncryptionByDefault") or {}).get("SSEAlgorithm", "")) for r in rules]
        algorithms = [a for a in algorithms if a]
        if not algorithms:
            return Line.fail("encryption", "no default encryption", "set SSE-S3 (AES256) as the template does")
        if algorithms[0] == "AES256":
            return Line.ok("encryption", "SSE-S3 (AES256)")
        return Line.ok("encryption", f"{algorithms[0]} (the function role and the caller also need kms:GenerateDataKey/kms:Decrypt on its key)")

    def _public_access(self, answer: Any) -> Line:
        settings = (answer or {}).get("PublicAccessBlockConfiguration") or {}
        off = [name for name in _PUBLIC_BLOCKS if not settings.get(name)]
        if not off:
            return Line.ok("public access", "blocked (all four settings)")
        return Line.fail("public access", f"not blocked: {', '.join(off)} off", "turn all four public-access-block settings on, as the template does")

    def _lifecycle(self, answer: Any) -> Line:
        rules = (answer or {}).get("Rules") or []
        expiry = lifecycle_expiry(rules, self.target.prefix)
        where = f"{self.target.prefix}/" if self.target.prefix else "the bucket"
        if expiry is None:
            return Line.fail("lifecycle", f"objects under {where} never expire", "add an expiration rule for the prefix, as the template's expire-run-artifacts")
        return Line.ok("lifecycle", f"objects under {where} expire after {expiry.after} (rule {expiry.rule_id})" if "days" in expiry.after else f"objects under {where} expire {expiry.after} (rule {expiry.rule_id})")

    # -- the prefix against the function's role ----------------------------------------
    def prefix(self) -> Iterator[Line]:
        target = self.target
        if not target.bucket:
            yield Line.unchecked("artifacts prefix", "no bucket to write to")
            return
        probe = "/".join(p for p in (target.prefix, "doctor-run", "probe.png") if p)
        role = str(self.learned.configuration.get("Role") or "")
        why_not_iam = ""
        if self.local and not self._has_endpoint("iam"):
            why_not_iam = "the local stand-in has no IAM"
        elif not role:
            why_not_iam = "the function's role is unknown (lambda:GetFunction denied)" if self.learned.function_ok else "no function"
        else:
            try:
                answer = self.clients("iam").simulate_principal_policy(
                    PolicySourceArn=role, ActionNames=["s3:PutObject"], ResourceArns=[f"arn:aws:s3:::{target.bucket}/{probe}"]
                )
            except Exception as exc:
                why_not_iam = f"iam:SimulatePrincipalPolicy: {_code(exc) or _message(exc)}"
            else:
                results = answer.get("EvaluationResults") or [{}]
                decision = str(results[0].get("EvalDecision", "?"))
                if decision == "allowed":
                    yield Line.ok("artifacts prefix", f"the function's role may write s3://{target.bucket}/{probe} (IAM simulation)")
                else:
                    yield Line.fail(
                        "artifacts prefix", f"the function's role may not write s3://{target.bucket}/{probe} ({decision}, IAM simulation)",
                        "use the template's bucket with a prefix under runs/ (--artifacts s3://BUCKET/runs)",
                    )
                return
        rule = self.write_rule
        if rule is None:
            yield Line.unchecked("artifacts prefix", f"{why_not_iam}, and no template was read", "give --template PATH")
            return
        shown = repr(target.prefix) if target.prefix else "no prefix"
        if prefix_allowed(rule.patterns, target.prefix):
            yield Line.ok("artifacts prefix", f"{shown} is inside the role's rule {rule.describe()} ({self.rule_source}; {why_not_iam}, so checked against the template)")
        else:
            yield Line.fail(
                "artifacts prefix", f"{shown} is outside what the function's role may write ({rule.describe()}, {self.rule_source}): its uploads would be denied on AWS",
                f"use --artifacts s3://{target.bucket}/runs (or a prefix under runs/)",
            )

    # -- the image against the packages used here -------------------------------------
    def image(self) -> Iterator[Line]:
        if not self.learned.function_ok:
            yield Line.unchecked("image", "no info answer from the function (see above)")
            return
        if self.drift is None:
            yield Line.unchecked("image", "the packages used here could not be read")
            return
        distributions = dict(self.learned.info.get("distributions") or {})
        if not distributions:
            yield Line.unchecked("image", "the function's info answer listed no Python packages")
            return
        try:
            found = self.drift(distributions)
        except Exception as exc:
            yield Line.fail("image", str(exc), "fix the requirements file")
            return
        if found:
            yield Line.fail("image", "differs from what this suite uses here: " + "; ".join(found), f"add it to the requirements file (TEST_REQUIREMENTS), rebuild and deploy the image ({DOCS})")
        else:
            yield Line.ok("image", f"has what this suite uses here ({len(distributions)} packages in the image)")

    # -- a browser in the function ------------------------------------------------------
    def smoke(self) -> Iterator[Line]:
        if not self.learned.function_ok:
            yield Line.unchecked("smoke", "no info answer from the function (see above)")
            return
        key = "/".join(p for p in (self.target.prefix, "doctor", f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-smoke.png") if p)
        bucket, shot_key = (self.target.bucket, key) if self.learned.bucket_ok else (None, None)
        answer = invoke_smoke(self.clients("lambda"), self.target.function, bucket, shot_key)
        if not answer.ok or answer.response is None:
            problems = "; ".join(answer.problems) or "not ok"
            yield Line.fail("smoke", f"the browser check in the function failed: {problems}", "read the function's log; rebuild the image (its build runs the same check)")
            return
        payload: dict[str, Any] = dict(answer.response)
        rendered = payload.get("rendered") or {}
        timings = payload.get("timings") or {}
        drawn = ", ".join(script for script, ok in rendered.items() if ok) or "nothing"
        retry = ", needed --single-process" if payload.get("single_process_retry") else ""
        yield Line.ok(
            "smoke",
            f"Chrome {payload.get('chrome_version', '?')} started in {timings.get('start_ms', 0):.0f} ms{retry}, drew {drawn}",
        )
        yield from self._save_screenshot(payload.get("screenshot"))

    def _save_screenshot(self, where: Any) -> Iterator[Line]:
        if self.screenshot_path is None:
            return
        if not isinstance(where, dict):
            yield Line.unchecked("screenshot", "the function uploaded none (no bucket)")
            return
        try:
            body = self.clients("s3").get_object(Bucket=where["bucket"], Key=where["key"])["Body"].read()
            self.screenshot_path.parent.mkdir(parents=True, exist_ok=True)
            self.screenshot_path.write_bytes(body)
        except Exception as exc:
            yield Line.fail("screenshot", f"s3://{where['bucket']}/{where['key']} could not be saved: {_code(exc) or _message(exc)}", "check s3:GetObject on the prefix")
            return
        yield Line.ok("screenshot", f"saved to {self.screenshot_path} ({len(body)} bytes, from s3://{where['bucket']}/{where['key']})")

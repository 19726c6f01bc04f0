"""``lambda-ui report`` on forged reports: a report reads only its own artifacts.

Each hostile value comes from the attack in issue 13: artifact links naming
``.aws/credentials``, ``.git/config``, ``.env``, paths through ``..`` or absolute
ones, a symlink out of the run folder, another bucket's object, another run's
key, an ``https://`` image that would beacon; then the crashes (deep nesting,
a bogus encoding, keys a folder cannot hold) and merging different runs.
No browser: the reports are written by hand, in the shape the plugin writes.
"""

from __future__ import annotations

import html
import os
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import quoteattr

import boto3
import pytest

from lambda_ui.runner.reports import safety
from lambda_ui.runner.reports.atomic import write_atomic
from stand_ins.services import LoopbackS3
from tests.functional.test_report_cli import report

RUN = "20261127-150958-90fd0b"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201"
    "e5a1d1ab0000000049454e44ae426082"
)


def junit(links: dict[str, str], run_id: str = RUN, location: str | None = None, failed: bool = True, name: str = "test_shop") -> str:
    """A report of one test with ``artifact:<name>`` links, in the plugin's shape."""
    facts = {"run_id": run_id, "run_mode": "local", "artifacts_location": location if location is not None else f"art/{run_id}/"}
    suite_props = "".join(f"<property name={quoteattr(k)} value={quoteattr(v)}/>" for k, v in facts.items())
    case_props = "".join(f"<property name={quoteattr('artifact:' + k)} value={quoteattr(v)}/>" for k, v in links.items())
    result = '<failure message="AssertionError: boom">trace</failure>' if failed else ""
    return (
        f'<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" tests="1"><properties>{suite_props}</properties>'
        f'<testcase classname="tests.test_ui" name="{name}" time="1.0"><properties>{case_props}</properties>{result}</testcase>'
        "</testsuite></testsuites>"
    )


def leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".part")]


def img_sources(page: str) -> list[str]:
    return [html.unescape(src) for src in re.findall(r'<img[^>]* src="([^"]*)"', page)]


def img_src_policy(page: str) -> list[str]:
    csp = html.unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page).group(1))
    return next(d.split()[1:] for d in csp.split(";") if d.split()[:1] == ["img-src"])


# -- local files -----------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder with secrets in it, a run's artifacts, the report at its top (where pytest ran)
    and a secret file next to the project; the canary ``SECRET-…`` is in every secret."""
    root = tmp_path / "project"
    for name in (".env", ".git/config", ".aws/credentials", ".ssh/id_rsa"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(f"SECRET-{name}\n")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.log").write_text("SECRET-outside\n")
    run = root / "art" / RUN / "tests" / "test_ui.py" / "test_shop"
    run.mkdir(parents=True)
    (run / "console.log").write_text("legit console line\n")
    (run / "failure-screenshot.png").write_bytes(PNG)
    (run / "escape.log").symlink_to(tmp_path / "outside" / "secret.log")
    (run / "dotenv.log").symlink_to(root / ".env")
    monkeypatch.chdir(root)
    return root


HOSTILE_LOCAL = {
    "aws-credentials": ".aws/credentials",
    "git-config": ".git/config",
    "dotenv": ".env",
    "ssh-key-absolute": "{root}/.ssh/id_rsa",
    "dot-dot": f"art/{RUN}/../../../outside/secret.log",
    "absolute-elsewhere": "{tmp}/outside/secret.log",
    "symlink-escape": f"art/{RUN}/tests/test_ui.py/test_shop/escape.log",
    "symlink-to-hidden": f"art/{RUN}/tests/test_ui.py/test_shop/dotenv.log",
}


@pytest.mark.parametrize("value", list(HOSTILE_LOCAL.values()), ids=list(HOSTILE_LOCAL))
@pytest.mark.parametrize("kind", ["console.log", "screenshot.png"])
def test_html_does_not_read_local_files_outside_the_report(project: Path, capsys: pytest.CaptureFixture[str], value: str, kind: str) -> None:
    value = value.format(root=project, tmp=project.parent)
    legit = f"art/{RUN}/tests/test_ui.py/test_shop/console.log"
    (project / "r.xml").write_text(junit({kind: value, "failure-console.log": legit}))
    result = report(capsys, "html", "r.xml", "-o", "out/r.html")
    assert result.code == 0, result.err
    page = (project / "out" / "r.html").read_text()
    assert "SECRET-" not in page
    assert "legit console line" in page  # the report's own artifact is still shown
    assert f"not shown: <code>{html.escape(value)}</code>" in page  # the link, as text
    assert not any(value in src or "secret" in src for src in img_sources(page))
    assert "1 not read" in result.out and "not read, shown as text" in result.err


def test_artifacts_of_the_run_are_embedded_and_inlined(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = f"art/{RUN}/tests/test_ui.py/test_shop"
    (project / "reports").mkdir()
    (project / "reports" / "r.xml").write_text(junit({"failure-screenshot.png": f"{folder}/failure-screenshot.png", "failure-console.log": f"{folder}/console.log"}))
    result = report(capsys, "html", "reports/r.xml", "-o", "r.html")
    assert result.code == 0 and "1 image(s) embedded" in result.out and "not read" not in result.out, result
    page = (project / "r.html").read_text()
    assert "legit console line" in page and "data:image/png;base64," in page
    assert img_src_policy(page) == ["data:", "'self'"]


def test_a_location_outside_the_folder_pytest_ran_in_needs_artifacts_root(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # pytest --artifacts=/elsewhere writes absolute links; the report alone does not vouch for that folder.
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / RUN).mkdir(parents=True)
    (elsewhere / RUN / "console.log").write_text("log from elsewhere\n")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    (work / "r.xml").write_text(junit({"failure-console.log": f"{elsewhere}/{RUN}/console.log"}, location=f"{elsewhere}/{RUN}/"))
    result = report(capsys, "html", "r.xml", "-o", "r.html")
    assert "log from elsewhere" not in (work / "r.html").read_text() and "pass --artifacts-root DIR" in result.err
    result = report(capsys, "html", "r.xml", "-o", "r.html", "--artifacts-root", str(elsewhere))
    assert result.code == 0 and "log from elsewhere" in (work / "r.html").read_text(), result


def test_a_location_not_named_for_the_run_is_not_used(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A forged artifacts_location of the whole project (or of its parent) opens nothing.
    (project / "src").mkdir()
    (project / "src" / "settings.log").write_text("SECRET-settings\n")
    (project / "reports").mkdir()
    for location in (".", "..", str(project), "src"):
        (project / "reports" / "r.xml").write_text(junit({"failure-console.log": "src/settings.log"}, location=location))
        result = report(capsys, "html", "reports/r.xml", "-o", "r.html")
        assert result.code == 0 and "SECRET-" not in (project / "r.html").read_text(), location
        assert "0 linked" in result.out and "not used" in result.err, (location, result)


# -- S3 ----------------------------------------------------------------------------------------


@pytest.fixture
def buckets(s3_env: LoopbackS3) -> Iterator[tuple[str, str]]:
    """The run's bucket (with this run's and another run's objects) and another bucket with a secret."""
    s3 = boto3.client("s3", endpoint_url=s3_env.endpoint)
    ours, other = f"ours-{uuid.uuid4().hex[:8]}", f"other-{uuid.uuid4().hex[:8]}"
    for bucket in (ours, other):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=ours, Key=f"runs/{RUN}/t/console.log", Body=b"legit console line\n")
    s3.put_object(Bucket=ours, Key=f"runs/{RUN}/t/failure-screenshot.png", Body=PNG)
    s3.put_object(Bucket=ours, Key="runs/20260101-000000-aaaaaa/t/console.log", Body=b"SECRET-other-run\n")
    s3.put_object(Bucket=ours, Key="private/prod-secrets.env", Body=b"SECRET-same-bucket\n")
    s3.put_object(Bucket=other, Key="private/prod-secrets.env", Body=b"SECRET-other-bucket\n")
    yield ours, other


def hostile_s3(ours: str, other: str) -> dict[str, str]:
    return {
        "other-bucket": f"s3://{other}/private/prod-secrets.env",
        "same-bucket-outside-the-run": f"s3://{ours}/private/prod-secrets.env",
        "another-run": f"s3://{ours}/runs/20260101-000000-aaaaaa/t/console.log",
        "dot-dot-key": f"s3://{ours}/runs/{RUN}/../../private/prod-secrets.env",
    }


@pytest.mark.parametrize("case", ["other-bucket", "same-bucket-outside-the-run", "another-run", "dot-dot-key"])
def test_html_neither_fetches_nor_presigns_s3_objects_outside_the_run(buckets: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    ours, other = buckets
    value = hostile_s3(ours, other)[case]
    xml = tmp_path / "r.xml"
    xml.write_text(junit(
        {"console.log": value, "failure-console.log": f"s3://{ours}/runs/{RUN}/t/console.log", "failure-screenshot.png": f"s3://{ours}/runs/{RUN}/t/failure-screenshot.png"},
        location=f"s3://{ours}/runs/{RUN}/",
    ))
    result = report(capsys, "html", str(xml), "-o", str(tmp_path / "r.html"))
    assert result.code == 0, result.err
    page = html.unescape((tmp_path / "r.html").read_text())
    assert "SECRET-" not in page and "legit console line" in page
    signed = {m.split("?")[0] for m in re.findall(r'https?://[^\s"<>]*X-Amz-Signature=[^\s"<>]*', page)}
    assert {u.rpartition("/")[2] for u in signed} == {"console.log", "failure-screenshot.png"} and len(signed) == 2
    assert not re.search(r"https?://[^\s\"<>]*(prod-secrets|aaaaaa)", page)
    assert f"not shown: <code>{value}</code>" in page and "1 not read" in result.out


@pytest.mark.parametrize("case", ["other-bucket", "same-bucket-outside-the-run", "another-run"])
def test_download_skips_s3_objects_outside_the_run_and_fetches_the_rest(buckets: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    ours, other = buckets
    value = hostile_s3(ours, other)[case]
    xml = tmp_path / "r.xml"
    xml.write_text(junit({"leak.log": value, "failure-console.log": f"s3://{ours}/runs/{RUN}/t/console.log"}, location=f"s3://{ours}/runs/{RUN}/"))
    result = report(capsys, "download", str(xml), str(tmp_path / "dl"))
    assert result.code == 1, result.err
    assert "downloaded 1 of 2" in result.out and f"skipped: {value}: not read" in result.err
    saved = [p for p in (tmp_path / "dl").rglob("*") if p.is_file()]
    assert not any(b"SECRET-" in p.read_bytes() for p in saved)
    assert (tmp_path / "dl" / ours / "runs" / RUN / "t" / "console.log").read_text() == "legit console line\n"
    props = {p.get("name"): p.get("value") for p in ET.parse(tmp_path / "dl" / "r.xml").iter("property")}
    assert props["artifact:leak.log"] == value and "not read" in props["artifact_warning"]


def test_artifacts_location_option_replaces_the_reports_claim(buckets: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A forged report claims another bucket as its run's location, named for a forged run id.
    ours, other = buckets
    xml = tmp_path / "r.xml"
    xml.write_text(junit({"leak.log": f"s3://{other}/private/prod-secrets.env"}, run_id="private", location=f"s3://{other}/private/"))
    result = report(capsys, "download", str(xml), str(tmp_path / "dl"), "--artifacts-location", f"s3://{ours}/runs/")
    assert result.code == 1 and "downloaded 0 of 1" in result.out
    result = report(capsys, "html", str(xml), "-o", str(tmp_path / "r.html"), "--artifacts-location", f"s3://{ours}/runs/")
    assert "SECRET-" not in (tmp_path / "r.html").read_text() and "1 not read" in result.out


def test_csp_allows_images_only_from_data_self_and_the_presigned_endpoint(buckets: tuple[str, str], s3_env: LoopbackS3, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ours, _ = buckets
    beacon = "https://attacker.example/x.png"
    xml = tmp_path / "r.xml"
    xml.write_text(junit(
        {"screenshot.png": beacon, "home.png": "http://attacker.example/y.png", "failure-screenshot.png": f"s3://{ours}/runs/{RUN}/t/failure-screenshot.png"},
        location=f"s3://{ours}/runs/{RUN}/", failed=False,
    ))
    result = report(capsys, "html", str(xml), "-o", str(tmp_path / "r.html"))
    assert result.code == 0, result.err
    page = (tmp_path / "r.html").read_text()
    assert not any("attacker.example" in src for src in img_sources(page))
    assert not re.search(r'(src|href)="[^"]*attacker\.example', page)
    assert f"not shown: <code>{beacon}</code>" in page
    assert img_src_policy(page) == ["data:", "'self'", s3_env.endpoint]
    (tmp_path / "local.xml").write_text(junit({"screenshot.png": beacon}))
    report(capsys, "html", str(tmp_path / "local.xml"), "-o", str(tmp_path / "local.html"))
    assert img_src_policy((tmp_path / "local.html").read_text()) == ["data:", "'self'"]


# -- download: keys a folder cannot hold ---------------------------------------------------------


def test_download_skips_keys_the_folder_cannot_hold_and_fetches_the_rest(s3_env: LoopbackS3, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bucket = f"keys-{uuid.uuid4().hex[:8]}"
    s3 = boto3.client("s3", endpoint_url=s3_env.endpoint)
    s3.create_bucket(Bucket=bucket)
    prefix = f"runs/{RUN}"
    keys = {"long.log": f"{prefix}/{'x' * 300}/console.log", "file.log": f"{prefix}/a/b", "folder.log": f"{prefix}/a/b/c", "ok.log": f"{prefix}/ok.log"}
    for key in keys.values():
        s3.put_object(Bucket=bucket, Key=key, Body=b"content\n")
    xml = tmp_path / "r.xml"
    xml.write_text(junit({name: f"s3://{bucket}/{key}" for name, key in keys.items()}, location=f"s3://{bucket}/{prefix}/"))
    result = report(capsys, "download", str(xml), str(tmp_path / "dl"))
    assert result.code == 1, result.err
    assert "downloaded 2 of 4" in result.out
    skipped = [line for line in result.err.splitlines() if "skipped: " in line]
    assert len(skipped) == 2
    assert any("x" * 300 in line and "too long for a file name" in line for line in skipped)
    assert any(line.endswith("needs 'b' to be a folder") and f"{prefix}/a/b:" in line for line in skipped)
    assert (tmp_path / "dl" / bucket / prefix / "ok.log").read_text() == "content\n"
    assert (tmp_path / "dl" / bucket / prefix / "a" / "b" / "c").read_text() == "content\n"
    warnings = [p.get("value") for p in ET.parse(tmp_path / "dl" / "r.xml").iter("property") if p.get("name") == "artifact_warning"]
    assert len(warnings) == 2
    assert not leftovers(tmp_path)


def test_download_skips_a_key_that_clashes_with_files_already_there(s3_env: LoopbackS3, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bucket = f"keys-{uuid.uuid4().hex[:8]}"
    s3 = boto3.client("s3", endpoint_url=s3_env.endpoint)
    s3.create_bucket(Bucket=bucket)
    for key in (f"runs/{RUN}/a", f"runs/{RUN}/ok.log"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"content\n")
    (tmp_path / "dl" / bucket / "runs" / RUN / "a").mkdir(parents=True)  # left by an earlier download
    xml = tmp_path / "r.xml"
    xml.write_text(junit({"a.log": f"s3://{bucket}/runs/{RUN}/a", "ok.log": f"s3://{bucket}/runs/{RUN}/ok.log"}, location=f"s3://{bucket}/runs/{RUN}/"))
    result = report(capsys, "download", str(xml), str(tmp_path / "dl"))
    assert result.code == 1 and "downloaded 1 of 2" in result.out
    assert "clashes with another file or folder" in result.err
    assert not leftovers(tmp_path)


# -- merge ------------------------------------------------------------------------------------


def test_merge_warns_when_the_inputs_come_from_different_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.xml").write_text(junit({}, run_id="run-a", name="test_one"))
    (tmp_path / "b.xml").write_text(junit({}, run_id="run-b", name="test_two"))
    (tmp_path / "a2.xml").write_text(junit({}, run_id="run-a", name="test_three"))
    result = report(capsys, "merge", str(tmp_path / "m.xml"), str(tmp_path / "a.xml"), str(tmp_path / "b.xml"))
    assert result.code == 0 and "3 tests" not in result.out and "2 tests" in result.out
    assert "warning: the inputs come from 2 different runs: run-a (a.xml); run-b (b.xml)" in result.err
    result = report(capsys, "merge", str(tmp_path / "m.xml"), str(tmp_path / "a.xml"), str(tmp_path / "a2.xml"))
    assert result.code == 0 and result.err == ""


def test_a_merged_report_reads_the_artifacts_of_every_run(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runs = [f"20261127-1500{n:02d}-abcdef" for n in range(25)]  # more than the 20 values other facts keep
    for n, run in enumerate(runs):
        (tmp_path / "art" / run).mkdir(parents=True)
        (tmp_path / "art" / run / "console.log").write_text(f"log of run {n}\n")
        (tmp_path / f"shard-{n:02d}.xml").write_text(junit({"failure-console.log": f"art/{run}/console.log"}, run_id=run, name=f"test_{n}"))
    os.mkdir("merged")
    assert report(capsys, "merge", "merged/m.xml", "shard-*.xml").code == 0
    result = report(capsys, "html", "merged/m.xml", "-o", "r.html")
    assert result.code == 0 and "not read" not in result.out, result
    page = (tmp_path / "r.html").read_text()
    assert all(f"log of run {n}\n" in page for n in range(25))


# -- writes are atomic ---------------------------------------------------------------------------


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path: Path) -> None:
    target = tmp_path / "r.html"
    target.write_text("old")

    def half_then_fail(path: Path) -> None:
        path.write_text("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        write_atomic(target, half_then_fail)
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]


# -- declarations: defusedxml refuses them on every parsing path -----------------------------


UTF16_DOCTYPE = '<?xml version="1.0" encoding="utf-16"?><!DOCTYPE x [<!ENTITY e "boom">]><testsuite name="&e;"/>'.encode("utf-16")


@pytest.mark.parametrize("for_junitparser", [False, True], ids=["reader", "merge"])
def test_a_doctype_is_refused_before_any_tree_is_built(monkeypatch: pytest.MonkeyPatch, for_junitparser: bool) -> None:
    # With lxml installed, merge's trees come from lxml; the defused parse must refuse first.
    # Here lxml is absent, so reaching the lxml parser at all would raise ImportError instead.
    monkeypatch.setattr(safety, "_junitparser_uses_lxml", lambda: True)
    with pytest.raises(safety.ReportError, match=r"^bad\.xml: refusing to parse: the file declares a DOCTYPE \(JUnit reports never do"):
        safety.parse_xml("bad.xml", UTF16_DOCTYPE, for_junitparser=for_junitparser)

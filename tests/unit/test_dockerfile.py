"""The function image's Dockerfile, read and partly run without Docker.

Nothing here builds the image (no Docker engine or registry is reachable where the tests
run). What can be checked without one is checked two ways:

* the shell of two RUN steps runs under bash with stand-in ``uname``, ``curl``, ``unzip`` and
  ``mv``: the architecture picks the Chrome for Testing platform, both downloads use one
  version, and an unpinned base image stops the build;
* the instructions are read as Docker reads them (continuation lines joined, comment lines
  dropped) and each rule is a check that returns a list of problems. The real Dockerfile has
  none, and a deliberately broken copy has some, so a check that can never fail is caught.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from lambda_ui.local_lambda import cfn

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "lambda_pkg" / "Dockerfile"
TEMPLATE = REPO / "template.yaml"

#: BuildKit's TARGETARCH → Chrome for Testing's platform folder.
CFT_PLATFORMS = {"amd64": "linux64", "arm64": "linux-arm64"}
#: Lambda's architecture names → BuildKit's.
LAMBDA_TO_DOCKER = {"x86_64": "amd64", "arm64": "arm64"}
#: What `uname -m` says on each.
UNAME = {"amd64": "x86_64", "arm64": "aarch64"}
SMOKE = "python -m lambda_ui.function.smoke --launch-only"
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
PACKAGE_INSTALL = re.compile(r"\b(?:micro)?dnf\b[^;&|]*\binstall\b|\byum\b[^;&|]*\binstall\b")


@dataclass(frozen=True)
class Instruction:
    keyword: str
    text: str  # everything after the keyword, continuation lines joined
    stage: int  # 0 before the first FROM, then 1, 2, ...


def parse(text: str) -> list[Instruction]:
    """Instructions as Docker reads them: a trailing backslash joins the next line, and
    comment lines inside a continued instruction are dropped."""
    instructions: list[Instruction] = []
    stage = 0
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        keyword, _, rest = whole.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        instructions.append(Instruction(keyword, rest.strip(), stage))
    return instructions


def _final_stage(instructions: list[Instruction]) -> int:
    return max(i.stage for i in instructions)


def _args(instructions: list[Instruction], stage: int) -> dict[str, str | None]:
    """ARG name → default (None without one) declared in one stage (0: the global ones)."""
    found: dict[str, str | None] = {}
    for ins in instructions:
        if ins.keyword == "ARG" and ins.stage == stage:
            name, sep, value = ins.text.partition("=")
            found[name.strip()] = value.strip().strip('"') if sep else None
    return found


def _runs(instructions: list[Instruction], needle: str) -> list[Instruction]:
    return [i for i in instructions if i.keyword == "RUN" and needle in i.text]


def _one_run(text: str, needle: str) -> str:
    steps = _runs(parse(text), needle)
    assert len(steps) == 1, f"expected one RUN step with {needle!r}, found {len(steps)}"
    return steps[0].text


# --- running RUN steps under bash ------------------------------------------------------

STUBS = {
    # Records its arguments, and writes the -o file so that the steps after it find one.
    "curl": 'echo "curl $*" >>"$CALLS"; while [ $# -gt 0 ]; do if [ "$1" = -o ]; then : >"$2"; fi; shift; done',
    "unzip": 'echo "unzip $*" >>"$CALLS"',
    "mv": 'echo "mv $*" >>"$CALLS"',
    "uname": 'echo "$FAKE_MACHINE"',
}


@dataclass(frozen=True)
class Ran:
    status: int
    calls: list[str]
    stderr: str

    @property
    def urls(self) -> list[str]:
        return [word for call in self.calls if call.startswith("curl ") for word in call.split() if word.startswith("http")]


def run_step(script: str, tmp_path: Path, stubs: dict[str, str] | None = None, **env: str) -> Ran:
    """One RUN step's shell under bash -o pipefail (the Dockerfile's SHELL), with the
    stand-ins first on PATH and the build arguments as environment variables."""
    folder = tmp_path / "stubs"
    folder.mkdir(exist_ok=True)
    for name, body in (stubs or STUBS).items():
        path = folder / name
        path.write_text(f"#!/bin/bash\n{body}\n")
        path.chmod(0o755)
    calls = tmp_path / "calls"
    calls.write_text("")
    environ = {"PATH": f"{folder}:{os.environ['PATH']}", "CALLS": str(calls), "HOME": str(tmp_path), **env}
    done = subprocess.run(["bash", "-o", "pipefail", "-c", script], env=environ, capture_output=True, text=True, timeout=30, check=False)
    return Ran(done.returncode, calls.read_text().splitlines(), done.stderr)


def _fetch_step(text: str = "") -> str:
    return _one_run(text or DOCKERFILE.read_text(encoding="utf-8"), "chromedriver.zip")


def _pin_step(text: str = "") -> str:
    return _one_run(text or DOCKERFILE.read_text(encoding="utf-8"), "BASE_IMAGE")


BUILD_ARGS = {"CHROME_VERSION": "156.0.8078.47", "CFT_BASE": "https://cft.example"}


@pytest.mark.parametrize("arch", sorted(CFT_PLATFORMS))
def test_target_arch_picks_the_chrome_for_testing_platform(tmp_path: Path, arch: str) -> None:
    ran = run_step(_fetch_step(), tmp_path, TARGETARCH=arch, FAKE_MACHINE=UNAME[arch], **BUILD_ARGS)
    assert ran.status == 0, ran.stderr
    platform = CFT_PLATFORMS[arch]
    assert ran.urls == [
        f"https://cft.example/156.0.8078.47/{platform}/chrome-{platform}.zip",
        f"https://cft.example/156.0.8078.47/{platform}/chromedriver-{platform}.zip",
    ]
    assert f"mv /tmp/cft/chrome-{platform} /opt/chrome" in ran.calls
    assert f"mv /tmp/cft/chromedriver-{platform} /opt/chromedriver" in ran.calls


@pytest.mark.parametrize("arch", sorted(CFT_PLATFORMS))
def test_without_target_arch_the_machine_decides(tmp_path: Path, arch: str) -> None:
    """The legacy builder (and `sam build` without BuildKit) sets no TARGETARCH."""
    ran = run_step(_fetch_step(), tmp_path, TARGETARCH="", FAKE_MACHINE=UNAME[arch], **BUILD_ARGS)
    assert ran.status == 0, ran.stderr
    assert all(f"/{CFT_PLATFORMS[arch]}/" in url for url in ran.urls) and len(ran.urls) == 2


def test_a_target_arch_that_disagrees_with_the_machine_stops_the_build(tmp_path: Path) -> None:
    ran = run_step(_fetch_step(), tmp_path, TARGETARCH="arm64", FAKE_MACHINE="x86_64", **BUILD_ARGS)
    assert ran.status != 0 and ran.urls == []
    assert "TARGETARCH=arm64" in ran.stderr


@pytest.mark.parametrize(("arch", "machine"), [("ppc64le", "ppc64le"), ("386", "i686"), ("", "riscv64")])
def test_an_architecture_without_chrome_for_testing_stops_the_build(tmp_path: Path, arch: str, machine: str) -> None:
    ran = run_step(_fetch_step(), tmp_path, TARGETARCH=arch, FAKE_MACHINE=machine, **BUILD_ARGS)
    assert ran.status != 0 and ran.urls == []


def test_every_architecture_the_template_allows_has_a_chrome(tmp_path: Path) -> None:
    allowed = cfn.load_template(TEMPLATE)["Parameters"]["Architecture"]["AllowedValues"]
    assert sorted(allowed) == ["arm64", "x86_64"]
    for name in allowed:
        arch = LAMBDA_TO_DOCKER[name]
        ran = run_step(_fetch_step(), tmp_path, TARGETARCH=arch, FAKE_MACHINE=UNAME[arch], **BUILD_ARGS)
        assert ran.status == 0 and len(ran.urls) == 2, (name, ran.stderr)


def test_a_failed_download_stops_the_build(tmp_path: Path) -> None:
    """`curl --fail`: an unknown version must not unzip an HTML error page."""
    failing = dict(STUBS, curl='echo "curl $*" >>"$CALLS"; exit 22')
    ran = run_step(_fetch_step(), tmp_path, failing, TARGETARCH="amd64", FAKE_MACHINE="x86_64", **BUILD_ARGS)
    assert ran.status != 0 and len(ran.urls) == 1
    assert "curl --fail" in _fetch_step()
    assert not [c for c in ran.calls if c.startswith(("unzip", "mv"))]


def _binaries_step(tmp_path: Path, chrome_version: str, driver_version: str) -> str:
    """The ldd and version step, its /opt paths moved under tmp_path, where two stand-in
    binaries print the versions given."""
    script = _one_run(DOCKERFILE.read_text(encoding="utf-8"), '"not found"').replace("/opt/", f"{tmp_path}/opt/")
    for folder, name, version in (("chrome", "chrome", f"Google Chrome for Testing {chrome_version}"), ("chromedriver", "chromedriver", f"ChromeDriver {driver_version} (abc)")):
        path = tmp_path / "opt" / folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"#!/bin/bash\necho '{version}'\n")
        path.chmod(0o755)
    return script


LDD = 'if [[ "$1" == *"$FAKE_MISSING"* ]]; then echo "libgtk-3.so.0 => not found"; else echo "libc.so.6 => /lib64/libc.so.6"; fi'


@pytest.mark.parametrize("binary", ["chrome/chrome", "chromedriver/chromedriver"])
def test_a_library_that_is_not_found_stops_the_build(tmp_path: Path, binary: str) -> None:
    script = _binaries_step(tmp_path, "156.0.8078.47", "156.0.8078.47")
    ran = run_step(script, tmp_path, dict(STUBS, ldd=LDD), FAKE_MISSING=f"/opt/{binary}", CHROME_VERSION="156.0.8078.47")
    assert ran.status != 0
    assert f"opt/{binary} lacks libraries" in ran.stderr and "libgtk-3.so.0 => not found" in ran.stderr


def test_ldd_that_fails_stops_the_build(tmp_path: Path) -> None:
    """A missing ldd, or one that cannot read the binary, must not pass as "nothing missing"."""
    script = _binaries_step(tmp_path, "156.0.8078.47", "156.0.8078.47")
    ran = run_step(script, tmp_path, dict(STUBS, ldd="echo 'ldd: not a dynamic executable' >&2; exit 1"), CHROME_VERSION="156.0.8078.47")
    assert ran.status != 0 and "ldd " in ran.stderr and "failed" in ran.stderr


def test_binaries_that_link_and_report_the_pinned_version_pass(tmp_path: Path) -> None:
    script = _binaries_step(tmp_path, "156.0.8078.47", "156.0.8078.47")
    ran = run_step(script, tmp_path, dict(STUBS, ldd=LDD), FAKE_MISSING="nothing", CHROME_VERSION="156.0.8078.47")
    assert ran.status == 0, ran.stderr


@pytest.mark.parametrize(("chrome", "driver"), [("156.0.8078.47", "155.0.8059.84"), ("155.0.8059.84", "156.0.8078.47")])
def test_a_binary_of_another_version_stops_the_build(tmp_path: Path, chrome: str, driver: str) -> None:
    script = _binaries_step(tmp_path, chrome, driver)
    ran = run_step(script, tmp_path, dict(STUBS, ldd=LDD), FAKE_MISSING="nothing", CHROME_VERSION="156.0.8078.47")
    assert ran.status != 0


@pytest.mark.parametrize(
    "image",
    ["public.ecr.aws/lambda/python:3.12", "public.ecr.aws/lambda/python:3.12@sha256:1234", "public.ecr.aws/lambda/python"],
)
def test_an_unpinned_base_image_stops_the_build(tmp_path: Path, image: str) -> None:
    ran = run_step(_pin_step(), tmp_path, BASE_IMAGE=image)
    assert ran.status != 0
    assert "not pinned by digest" in ran.stderr
    # The message gives the command that pins it, for the image without any digest part.
    assert f"docker buildx imagetools inspect {image.split('@')[0]} --format" in ran.stderr


def test_a_pinned_base_image_passes(tmp_path: Path) -> None:
    default = _args(parse(DOCKERFILE.read_text(encoding="utf-8")), 0)["BASE_IMAGE"]
    assert default is not None
    ran = run_step(_pin_step(), tmp_path, BASE_IMAGE=default)
    assert ran.status == 0, ran.stderr


# --- rules on the instructions (each returns a list of problems) ------------------------


def base_image_problems(text: str) -> list[str]:
    """Every stage is built FROM the one global ARG, whose default is a digest-pinned
    Lambda Python image; no stage forces a platform (the build's --platform decides)."""
    problems = []
    instructions = parse(text)
    declared = _args(instructions, 0)
    default = declared.get("BASE_IMAGE")
    if default is None:
        problems.append("no global ARG BASE_IMAGE with a default")
    else:
        if not DIGEST.search(default):
            problems.append(f"BASE_IMAGE default {default} is not pinned by digest")
        if not default.startswith("public.ecr.aws/lambda/python:"):
            problems.append(f"BASE_IMAGE default {default} is not an AWS Lambda Python base image")
    froms = [i for i in instructions if i.keyword == "FROM"]
    if len(froms) < 2:
        problems.append("expected a fetch stage and the function stage")
    for ins in froms:
        words = ins.text.split()
        if any(w.startswith("--platform") for w in words):
            problems.append(f"FROM {ins.text} forces a platform")
        image = next((w for w in words if not w.startswith("--")), "")
        if image != "${BASE_IMAGE}":
            problems.append(f"FROM {ins.text} does not use the ARG BASE_IMAGE")
    refusals = [i for i in _runs(instructions, "BASE_IMAGE") if "sha256" in i.text and "exit 1" in i.text]
    if not refusals:
        problems.append("no RUN step refuses an unpinned BASE_IMAGE")
    return problems


def chrome_version_problems(text: str) -> list[str]:
    """One CHROME_VERSION for Chrome and chromedriver: declared once with a default, and
    the final image checks both binaries report it."""
    problems = []
    instructions = parse(text)
    default = _args(instructions, 0).get("CHROME_VERSION")
    if default is None or not re.fullmatch(r"\d+\.0\.\d+\.\d+", default):
        problems.append(f"global ARG CHROME_VERSION has no full version default ({default!r})")
    for stage in range(1, _final_stage(instructions) + 1):
        if _args(instructions, stage).get("CHROME_VERSION", "absent") is not None:
            problems.append(f"stage {stage} does not take the global CHROME_VERSION (ARG CHROME_VERSION without a default)")
    hardcoded = [i.text for i in instructions if i.keyword == "RUN" and default and default in i.text]
    if hardcoded:
        problems.append("a RUN step names the version instead of ${CHROME_VERSION}")
    final = _final_stage(instructions)
    for binary in ("/opt/chrome/chrome", "/opt/chromedriver/chromedriver"):
        if not any(i.stage == final and f'{binary} --version | grep -F "${{CHROME_VERSION}}"' in i.text for i in instructions):
            problems.append(f"the image does not check {binary} --version against CHROME_VERSION")
    return problems


def weak_deps_problems(text: str) -> list[str]:
    """Every package install leaves weak dependencies out, in the form microdnf reads."""
    problems = []
    installs = [i for i in parse(text) if i.keyword == "RUN" and PACKAGE_INSTALL.search(i.text)]
    if not installs:
        problems.append("no package install found")
    for ins in installs:
        if "--setopt=install_weak_deps=0" not in ins.text:
            problems.append(f"package install without --setopt=install_weak_deps=0: {ins.text[:60]}…")
    return problems


def launch_check_problems(text: str) -> list[str]:
    """The final stage fails the build on a missing library (ldd of both binaries) and on a
    browser that does not start (the smoke module's launch, after the project and the
    Chrome paths are in place)."""
    problems = []
    instructions = parse(text)
    final = _final_stage(instructions)
    in_final = [i for i in instructions if i.stage == final]
    ldd = [i for i in in_final if i.keyword == "RUN" and "ldd" in i.text and '"not found"' in i.text]
    if not ldd:
        problems.append("no ldd check for libraries that are not found")
    else:
        loop = re.search(r"for binary in ([^;]*);", ldd[0].text)
        if loop is None or set(loop[1].split()) != {"/opt/chrome/chrome", "/opt/chromedriver/chromedriver"}:
            problems.append("the ldd check does not cover both binaries")
    position = {id(i): n for n, i in enumerate(in_final)}
    smoke = [i for i in in_final if i.keyword == "RUN" and SMOKE in i.text]
    if not smoke:
        problems.append(f"no RUN step runs `{SMOKE}`")
        return problems
    project = [i for i in in_final if i.keyword == "RUN" and re.search(r"pip install\b.*?/tmp/src", i.text)]
    paths = [i for i in in_final if i.keyword == "ENV" and "CHROME_BINARY=" in i.text and "CHROMEDRIVER=" in i.text]
    if not project or position[id(smoke[0])] < position[id(project[-1])]:
        problems.append("the smoke launch runs before the project is installed")
    if not paths or position[id(smoke[0])] < position[id(paths[0])]:
        problems.append("the smoke launch runs before CHROME_BINARY/CHROMEDRIVER are set")
    return problems


def image_problems(text: str) -> list[str]:
    """The function stage's entry point and the pieces the template relies on."""
    problems = []
    instructions = parse(text)
    final = _final_stage(instructions)
    cmds = [i for i in instructions if i.keyword == "CMD"]
    if [(c.stage, c.text) for c in cmds] != [(final, '["lambda_ui.function.handler.handler"]')]:
        problems.append("the final stage's CMD is not lambda_ui.function.handler.handler")
    shells = [i for i in instructions if i.keyword == "SHELL" and "pipefail" in i.text]
    if {s.stage for s in shells} != set(range(1, final + 1)):
        problems.append("not every stage runs its RUN steps under bash -o pipefail")
    return problems


CHECKS: list[Callable[[str], list[str]]] = [
    base_image_problems,
    chrome_version_problems,
    weak_deps_problems,
    launch_check_problems,
    image_problems,
]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_dockerfile_passes(check: Callable[[str], list[str]]) -> None:
    assert check(DOCKERFILE.read_text(encoding="utf-8")) == []


def _replace(old: str, new: str, count: int = 1) -> Callable[[str], str]:
    def mutate(text: str) -> str:
        assert old in text, f"mutation target not found: {old!r}"
        return text.replace(old, new, count)

    return mutate


def _drop_step(needle: str) -> Callable[[str], str]:
    """Remove the one instruction (with its continuation lines) whose first line holds needle."""

    def mutate(text: str) -> str:
        lines = text.splitlines(keepends=True)
        first = next(n for n, line in enumerate(lines) if needle in line)
        last = first
        while lines[last].rstrip("\n").endswith("\\"):
            last += 1
        return "".join(lines[:first] + lines[last + 1 :])

    return mutate


def _unpin(text: str) -> str:
    return re.sub(r"@sha256:[0-9a-f]{64}", "", text, count=1)


def _move_smoke_before_project(text: str) -> str:
    smoke = "RUN python -m lambda_ui.function.smoke --launch-only \\\n && rm -rf /tmp/* /tmp/.[!.]*\n"
    assert smoke in text
    text = text.replace(smoke, "")
    return text.replace("COPY . /tmp/src\n", smoke + "COPY . /tmp/src\n")


def _hardcode_version(text: str) -> str:
    version = _args(parse(text), 0)["CHROME_VERSION"]
    assert version
    return _replace("${CFT_BASE}/${CHROME_VERSION}/${platform}/chromedriver", f"${{CFT_BASE}}/{version}/${{platform}}/chromedriver")(text)


PIPEFAIL = 'SHELL ["/bin/bash", "-o", "pipefail", "-c"]\n'

MUTATIONS: dict[str, tuple[Callable[[str], list[str]], Callable[[str], str]]] = {
    "base image by tag": (base_image_problems, _unpin),
    "a stage ignores the ARG": (base_image_problems, _replace("FROM ${BASE_IMAGE} AS chrome", "FROM public.ecr.aws/lambda/python:3.12 AS chrome")),
    "platform forced to amd64": (base_image_problems, _replace("FROM ${BASE_IMAGE}\n", "FROM --platform=linux/amd64 ${BASE_IMAGE}\n")),
    "no pin refusal": (base_image_problems, _drop_step("RUN if ! grep -Eq")),
    "version hard-coded in a URL": (chrome_version_problems, _hardcode_version),
    "stage has its own version": (chrome_version_problems, _replace("ARG CHROME_VERSION\n", "ARG CHROME_VERSION=155.0.8059.84\n")),
    "chromedriver version unchecked": (chrome_version_problems, _replace(' \\\n && /opt/chromedriver/chromedriver --version | grep -F "${CHROME_VERSION}"', "")),
    "weak deps on for unzip": (weak_deps_problems, _replace("dnf install -y --setopt=install_weak_deps=0 unzip", "dnf install -y unzip")),
    "weak deps as False": (weak_deps_problems, lambda t: t.replace("install_weak_deps=0", "install_weak_deps=False")),
    "no ldd check": (launch_check_problems, _replace('grep -F "not found"', 'grep -F "missing"')),
    "ldd of chrome only": (launch_check_problems, _replace("for binary in /opt/chrome/chrome /opt/chromedriver/chromedriver;", "for binary in /opt/chrome/chrome;")),
    "no smoke launch": (launch_check_problems, _drop_step("RUN " + SMOKE)),
    "smoke without --launch-only": (launch_check_problems, _replace(SMOKE, "python -m lambda_ui.function.smoke")),
    "smoke before the project": (launch_check_problems, _move_smoke_before_project),
    "another CMD": (image_problems, _replace('CMD ["lambda_ui.function.handler.handler"]', 'CMD ["handler.handler"]')),
    "no pipefail in the fetch stage": (image_problems, _replace(PIPEFAIL, "")),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_checks_catch_mutation(name: str) -> None:
    check, mutate = MUTATIONS[name]
    broken = mutate(DOCKERFILE.read_text(encoding="utf-8"))
    assert check(broken) != [], f"{check.__name__} missed: {name}"


def test_parse_joins_continuations_and_drops_comment_lines() -> None:
    text = "ARG A=1\n# note\nFROM x AS y\nRUN a \\\n# inside\n    && b\nFROM z\nCMD [\"c\"]\n"
    assert parse(text) == [
        Instruction("ARG", "A=1", 0),
        Instruction("FROM", "x AS y", 1),
        Instruction("RUN", "a  && b", 1),
        Instruction("FROM", "z", 2),
        Instruction("CMD", '["c"]', 2),
    ]


def test_the_smoke_command_exists() -> None:
    """The module the build runs is part of the package and takes --launch-only."""
    source = REPO / "lambda_pkg" / "smoke.py"
    assert source.is_file(), "lambda_pkg/smoke.py (lambda_ui.function.smoke) is missing"
    assert "--launch-only" in source.read_text(encoding="utf-8")

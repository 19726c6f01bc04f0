"""The CI recipes in examples/ci, read as their CI systems would read them.

Each file must parse as YAML without duplicate keys (a duplicate silently replaces the
first in both GitHub and GitLab), and each recipe must:

* install the plugin from the source the image installs (a wheel the pipeline builds from
  the checkout, or a git URL of a commit), never ``pip install pytest-lambda-ui`` from a
  package index, where it is not published;
* run ``lambda-ui doctor`` on the same function, bucket and prefix before the tests.

The rules are checks that return problems; the recipes have none, and a broken copy of
each has some.
"""

from __future__ import annotations

import copy
import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CI = REPO / "examples" / "ci"
GITHUB = CI / "github-actions.yml"
GITLAB = CI / "gitlab-ci.yml"
WHEEL = "dist/*.whl"


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping with the same key twice."""


def _mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load(path: Path) -> dict[Any, Any]:
    text = path.read_text(encoding="utf-8")
    assert "\t" not in text, f"{path.name}: tab characters"
    data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize("path", sorted(CI.glob("*.yml")), ids=lambda p: p.name)
def test_recipe_parses_without_duplicate_keys(path: Path) -> None:
    load(path)


def test_the_loader_refuses_duplicate_keys() -> None:
    with pytest.raises(yaml.constructor.ConstructorError, match="duplicate key 'a'"):
        yaml.load("a: 1\nb: 2\na: 3\n", Loader=_UniqueKeyLoader)


# --- shared rules on shell text -------------------------------------------------------

#: ``pytest-lambda-ui``, ``pytest-lambda-ui[xdist]``, ``pytest-lambda-ui==0.1``: a name an index resolves.
_INDEX_NAME = re.compile(r"^pytest-lambda-ui(\[[^\]]*\])?([<>=!~].*)?$")


def index_installs(script: str) -> list[str]:
    """The ``pip install`` commands in a script that would fetch the plugin from an index."""
    found = []
    for command in re.split(r"&&|\|\||;|\n", script):
        words = command.split()
        if "pip" in words and "install" in words[words.index("pip") :]:
            names = [w.strip("\"'") for w in words]
            # "NAME @ URL" is a direct reference (git, file), not an index look-up.
            direct = {n for n, after in zip(names, names[1:]) if after.startswith("@")}
            if any(_INDEX_NAME.match(name) and name not in direct for name in names):
                found.append(command.strip())
    return found


def _option(command: str, name: str) -> str | None:
    words = shlex.split(command.replace("\n", " "))
    return words[words.index(name) + 1] if name in words and words.index(name) + 1 < len(words) else None


def doctor_matches_pytest(doctor: str, tests: str) -> list[str]:
    """doctor checks what the tests use: the same function, bucket, and artifacts prefix."""
    problems = []
    artifacts = _option(tests, "--artifacts") or ""
    match = re.fullmatch(r"s3://([^/]+)/(.+)", artifacts)
    if match is None:
        return [f"the tests' --artifacts {artifacts!r} is not s3://BUCKET/PREFIX"]
    pairs = {
        "--function": _option(tests, "--lambda-function"),
        "--bucket": match[1],
        "--prefix": match[2].strip("/"),
    }
    for name, expected in pairs.items():
        if _option(doctor, name) != expected:
            problems.append(f"doctor {name} is {_option(doctor, name)!r}, the tests use {expected!r}")
    return problems


# --- GitHub Actions --------------------------------------------------------------------


def _steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps", []))


def _runs(job: dict[str, Any]) -> str:
    return "\n".join(str(s.get("run", "")) for s in _steps(job))


def _needs(job: dict[str, Any]) -> list[str]:
    needs = job.get("needs", [])
    return [needs] if isinstance(needs, str) else list(needs)


def _upstream(jobs: dict[str, Any], name: str) -> set[str]:
    """Every job ``name`` waits for, directly or through others."""
    found: set[str] = set()
    todo = _needs(jobs[name])
    while todo:
        job = todo.pop()
        if job not in found:
            found.add(job)
            todo.extend(_needs(jobs.get(job, {})))
    return found


def github_problems(workflow: dict[str, Any]) -> list[str]:
    problems = []
    jobs: dict[str, Any] = workflow.get("jobs", {})
    if workflow.get("permissions", {}).get("id-token") != "write":
        problems.append("the workflow cannot get an OIDC token (permissions id-token: write)")
    for name, job in jobs.items():
        for step in _steps(job):
            uses = step.get("uses")
            if uses is not None and not re.fullmatch(r"[\w.-]+/[\w./-]+@v\d+", str(uses)):
                problems.append(f"{name}: action {uses} is not pinned to a major version")
        for command in index_installs(_runs(job)):
            problems.append(f"{name}: installs the plugin from a package index: {command}")
    builders = [n for n, j in jobs.items() if re.search(r"pip wheel\b.*--wheel-dir dist \.$", _runs(j), re.MULTILINE)]
    if len(builders) != 1:
        return [*problems, f"expected one job that builds the plugin's wheel from the checkout, found {builders}"]
    builder = builders[0]
    checkout = next((s.get("with", {}) for s in _steps(jobs[builder]) if str(s.get("uses", "")).startswith("actions/checkout@")), None)
    if checkout is None or "github.sha" not in str(checkout.get("ref", "")) or "github.repository" not in str(checkout.get("repository", "")):
        problems.append(f"{builder}: does not check out this repository at this commit by default")
    users = [n for n, j in jobs.items() if re.search(r"\blambda-ui\b|\bpytest\b.*--lambda", _runs(j), re.DOTALL)]
    for name in users:
        if f"pip install {WHEEL}" not in _runs(jobs[name]) or builder not in _upstream(jobs, name):
            problems.append(f"{name}: does not install the wheel the {builder} job built")
    doctors = [n for n, j in jobs.items() if "lambda-ui doctor" in _runs(j)]
    testers = [n for n, j in jobs.items() if re.search(r"\bpytest\b[^\n]*\n?[^\n]*--lambda\b", _runs(j))]
    if len(doctors) != 1 or not testers:
        return [*problems, f"expected one doctor job and a test job, found {doctors} and {testers}"]
    for name in testers:
        if doctors[0] not in _upstream(jobs, name):
            problems.append(f"{name}: runs before (or without) {doctors[0]}")
        problems.extend(f"{name}: {p}" for p in doctor_matches_pytest(_runs(jobs[doctors[0]]), _runs(jobs[name])))
    return problems


# --- GitLab CI -------------------------------------------------------------------------


def _gitlab_jobs(pipeline: dict[str, Any]) -> dict[str, dict[str, Any]]:
    reserved = {"stages", "default", "variables", "include", "workflow", "image", "services", "cache", "before_script", "after_script"}
    return {k: v for k, v in pipeline.items() if k not in reserved and isinstance(v, dict) and not k.startswith(".")}


def _gitlab_script(pipeline: dict[str, Any], job: dict[str, Any]) -> str:
    """before_script (own, else from extends) and script, as the runner runs them."""
    before = job.get("before_script")
    parent = job.get("extends")
    if before is None and isinstance(parent, str):
        before = pipeline.get(parent, {}).get("before_script")
    return "\n".join(str(line) for line in [*(before or []), *job.get("script", [])])


def gitlab_problems(pipeline: dict[str, Any]) -> list[str]:
    problems = []
    jobs = _gitlab_jobs(pipeline)
    stages: list[str] = list(pipeline.get("stages", []))
    scripts = {name: _gitlab_script(pipeline, job) for name, job in jobs.items()}
    for name, script in scripts.items():
        for command in index_installs(script):
            problems.append(f"{name}: installs the plugin from a package index: {command}")
    builders = [n for n, s in scripts.items() if re.search(r"pip wheel\b.*--wheel-dir dist \.$", s, re.MULTILINE)]
    if len(builders) != 1 or WHEEL.split("*")[0] not in jobs[builders[0]].get("artifacts", {}).get("paths", []):
        return [*problems, f"expected one job that builds the plugin's wheel from the checkout into dist/, found {builders}"]

    def stage(name: str) -> int:
        return stages.index(jobs[name].get("stage", "test")) if jobs[name].get("stage", "test") in stages else -1

    for name, script in scripts.items():
        if re.search(r"\blambda-ui\b|\bpytest\b.*--lambda", script, re.DOTALL):
            if f"pip install {WHEEL}" not in script or stage(name) <= stage(builders[0]):
                problems.append(f"{name}: does not install the wheel the {builders[0]} job built")
    doctors = [n for n, s in scripts.items() if "lambda-ui doctor" in s]
    testers = [n for n, s in scripts.items() if re.search(r"\bpytest\b[^\n]*--lambda\b", s)]
    if len(doctors) != 1 or not testers:
        return [*problems, f"expected one doctor job and a test job, found {doctors} and {testers}"]
    for name in testers:
        if stage(doctors[0]) >= stage(name):
            problems.append(f"{name}: runs in a stage before (or with) {doctors[0]}")
        problems.extend(f"{name}: {p}" for p in doctor_matches_pytest(scripts[doctors[0]], scripts[name]))
    return problems


# --- tests -----------------------------------------------------------------------------


def test_github_recipe() -> None:
    assert github_problems(load(GITHUB)) == []


def test_gitlab_recipe() -> None:
    assert gitlab_problems(load(GITLAB)) == []


def _gh_job(w: dict[str, Any], name: str) -> dict[str, Any]:
    job: dict[str, Any] = w["jobs"][name]
    return job


def _gh_run(w: dict[str, Any], job: str, needle: str) -> dict[str, Any]:
    return next(s for s in _gh_job(w, job)["steps"] if needle in str(s.get("run", "")))


def _gh_index_install(w: dict[str, Any]) -> None:
    _gh_run(w, "ui-tests", "pip install").update(run="pip install pytest-lambda-ui -r requirements-ui.txt")


def _gh_no_doctor_gate(w: dict[str, Any]) -> None:
    _gh_job(w, "ui-tests")["needs"] = ["plugin"]


def _gh_doctor_other_bucket(w: dict[str, Any]) -> None:
    step = _gh_run(w, "doctor", "lambda-ui doctor")
    step["run"] = step["run"].replace("--prefix runs", "--prefix artifacts")


def _gh_wheel_from_index(w: dict[str, Any]) -> None:
    _gh_run(w, "plugin", "pip wheel").update(run="python -m pip wheel --no-deps --wheel-dir dist pytest-lambda-ui")


def _gh_report_from_index(w: dict[str, Any]) -> None:
    _gh_run(w, "report", "pip install").update(run="pip install 'pytest-lambda-ui==0.1.0'")


def _gh_checkout_elsewhere(w: dict[str, Any]) -> None:
    _gh_job(w, "plugin")["steps"][0]["with"]["ref"] = "main"


def _gl_index_install(p: dict[str, Any]) -> None:
    p[".aws"]["before_script"][1] = "pip install pytest-lambda-ui[xdist] -r requirements-ui.txt"


def _gl_doctor_with_tests(p: dict[str, Any]) -> None:
    p["doctor"]["stage"] = "test"


def _gl_doctor_other_function(p: dict[str, Any]) -> None:
    p["doctor"]["script"][0] = p["doctor"]["script"][0].replace('--function "$LAMBDA_UI_FUNCTION"', "--function other")


def _gl_wheel_not_kept(p: dict[str, Any]) -> None:
    p["plugin-wheel"]["artifacts"]["paths"] = []


GITHUB_MUTATIONS: dict[str, Callable[[dict[str, Any]], None]] = {
    "tests install from an index": _gh_index_install,
    "tests do not wait for doctor": _gh_no_doctor_gate,
    "doctor checks another prefix": _gh_doctor_other_bucket,
    "wheel built from an index": _gh_wheel_from_index,
    "report installs from an index": _gh_report_from_index,
    "wheel from another commit": _gh_checkout_elsewhere,
    "no OIDC token": lambda w: w["permissions"].pop("id-token"),
}
GITLAB_MUTATIONS: dict[str, Callable[[dict[str, Any]], None]] = {
    "jobs install from an index": _gl_index_install,
    "doctor in the tests' stage": _gl_doctor_with_tests,
    "doctor checks another function": _gl_doctor_other_function,
    "wheel not passed on": _gl_wheel_not_kept,
}


@pytest.mark.parametrize("name", list(GITHUB_MUTATIONS))
def test_github_check_catches(name: str) -> None:
    broken = copy.deepcopy(load(GITHUB))
    GITHUB_MUTATIONS[name](broken)
    assert github_problems(broken) != [], name


@pytest.mark.parametrize("name", list(GITLAB_MUTATIONS))
def test_gitlab_check_catches(name: str) -> None:
    broken = copy.deepcopy(load(GITLAB))
    GITLAB_MUTATIONS[name](broken)
    assert gitlab_problems(broken) != [], name


@pytest.mark.parametrize(
    ("script", "found"),
    [
        ("pip install pytest-lambda-ui", True),
        ("pip install 'pytest-lambda-ui[xdist]>=0.1' -r r.txt", True),
        ("python -m pip install -U pytest-lambda-ui==0.1.0", True),
        ("pip install dist/*.whl -r requirements-ui.txt", False),
        ('pip install "pytest-lambda-ui @ git+https://github.com/o/r@0123abc"', False),
        ("pip install -e . && pytest --lambda", False),
    ],
)
def test_index_installs(script: str, found: bool) -> None:
    assert bool(index_installs(script)) is found

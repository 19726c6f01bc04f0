"""What the test bundle ships and what it leaves out (issue #13): real files, real git, real links and FIFOs."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from lambda_ui.contract import InvalidEvent
from lambda_ui.function.bundles import BundleCache
from lambda_ui.runner.bundle import BundleProblem, BundleRules, Entry, Selection, build_bundle, denied, matches, select
from tests.unit.test_bundles import FakeS3

SECRET = "aws_secret_access_key = CANARY-not-for-any-bundle"


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def _git(root: Path, *tracked: str) -> None:
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    if tracked:
        subprocess.run(["git", "add", "--", *tracked], cwd=root, check=True)


def _members(root: Path, selection: Selection) -> dict[str, bytes]:
    built = build_bundle(root, selection.files)
    with zipfile.ZipFile(io.BytesIO(built.data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _home_with_credentials(tmp_path: Path) -> Path:
    """A ``~/.aws/credentials`` of a fake home, outside the suite."""
    creds = tmp_path / "home" / ".aws" / "credentials"
    creds.parent.mkdir(parents=True)
    creds.write_text(f"[default]\n{SECRET}\n")
    return creds


# -- git: tracked by default, untracked only through the include list ------------------------


def test_in_git_only_tracked_files_ship_and_untracked_ones_need_an_include(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    _write(suite, {"tests/test_a.py": "pass\n", "tests/new_helper.py": "pass\n", "data/users.json": "[]\n", "scratch.txt": "x\n", "gen/big.bin": "x", ".gitignore": "gen/\n"})
    _git(suite, "tests/test_a.py", ".gitignore")
    assert select(suite).files == [".gitignore", "tests/test_a.py"]
    with_include = select(suite, BundleRules(include=("data/*", "gen/")))
    # An include reaches untracked files, ignored ones too: it is explicit.
    assert with_include.files == [".gitignore", "data/users.json", "gen/big.bin", "tests/test_a.py"]
    assert with_include.source == "git"


def test_a_file_collection_needs_but_git_does_not_track_is_named(tmp_path: Path) -> None:
    _write(tmp_path, {"test_a.py": "import helper\n", "helper.py": "pass\n"})
    _git(tmp_path, "test_a.py")
    selection = select(tmp_path, BundleRules(needed=(str(tmp_path / "test_a.py"), str(tmp_path / "helper.py"))))
    assert selection.files == ["test_a.py"]
    assert selection.warnings() == [
        "left out helper.py: git does not track it, but the collected tests need it: git add it, or name it in lambda_bundle_include",
    ]


def test_a_rootdir_below_the_git_root_keeps_its_own_relative_paths(tmp_path: Path) -> None:
    _write(tmp_path, {"tests/test_a.py": "pass\n", "tests/tests/test_b.py": "pass\n", "other.py": "pass\n"})
    _git(tmp_path, "tests/test_a.py", "tests/tests/test_b.py", "other.py")
    assert select(tmp_path / "tests").files == ["test_a.py", "tests/test_b.py"]


def test_globs_are_fnmatch_on_rootdir_relative_posix_paths() -> None:
    assert matches("a/b/users.json", "*.json")  # "*" crosses "/"
    assert matches("data/deep/x.bin", "data/*") and matches("data/deep/x.bin", "data/")
    assert not matches("other/data/x.bin", "data/*")
    assert matches("tests/test_a.py", "./tests/test_a.py")
    assert not matches("Tests/a.py", "tests/*")  # case-sensitive


def test_exclude_wins_over_tracked_and_included(tmp_path: Path) -> None:
    _write(tmp_path, {"test_a.py": "pass\n", "docs/big.pdf": "x", "fixtures/a.json": "{}", "fixtures/huge.json": "{}"})
    _git(tmp_path, "test_a.py", "docs/big.pdf")
    rules = BundleRules(include=("fixtures/*",), exclude=("docs/", "*huge*"))
    assert select(tmp_path, rules).files == ["fixtures/a.json", "test_a.py"]


# -- symlinks --------------------------------------------------------------------------------


def test_symlinks_out_of_the_rootdir_are_left_out_and_never_read(tmp_path: Path) -> None:
    creds = _home_with_credentials(tmp_path)
    shadow = tmp_path / "etc" / "shadow"
    shadow.parent.mkdir()
    shadow.write_text(f"root:{SECRET}\n")
    suite = tmp_path / "suite"
    _write(suite, {"tests/test_a.py": "pass\n"})
    (suite / "tests" / "c").symlink_to(creds)
    (suite / "tests" / "shadow").symlink_to(os.path.relpath(shadow, suite / "tests"))  # relative, still outside
    (suite / "home").symlink_to(creds.parent.parent, target_is_directory=True)
    _git(suite, "tests/test_a.py", "tests/c", "tests/shadow", "home")
    selection = select(suite)
    assert selection.files == ["tests/test_a.py"]
    assert {item.path: item.reason for item in selection.left_out} == {
        path: "a symlink to a path outside the rootdir (never followed)" for path in ("home", "tests/c", "tests/shadow")
    }
    assert not any(SECRET.encode() in data for data in _members(suite, selection).values())
    # Outside git, through an include, the same.
    subprocess.run(["rm", "-rf", str(suite / ".git")], check=True)
    loose = select(suite, BundleRules(include=("*",)))
    assert loose.source == "collected" and loose.files == ["tests/test_a.py"]
    with pytest.raises(BundleProblem, match="outside the rootdir"):
        build_bundle(suite, ["tests/c"])  # asked for directly, still refused


def test_a_file_under_a_symlinked_folder_is_left_out(tmp_path: Path) -> None:
    _home_with_credentials(tmp_path)
    suite = tmp_path / "suite"
    _write(suite, {"tests/test_a.py": "pass\n", "cfg/settings.ini": "placeholder"})
    _git(suite, "tests/test_a.py", "cfg/settings.ini")
    # The folder is swapped for a link after git tracked a file in it.
    subprocess.run(["rm", "-rf", str(suite / "cfg")], check=True)
    (suite / "cfg").symlink_to(tmp_path / "home" / ".aws", target_is_directory=True)
    (suite / "cfg" / "settings.ini").write_text(SECRET)
    selection = select(suite, BundleRules(include=("cfg/*",)))
    assert selection.files == ["tests/test_a.py"]
    assert [(i.path, i.reason) for i in selection.left_out] == [("cfg/settings.ini", "it lies under a symlinked folder")]


def test_a_symlink_inside_the_rootdir_is_stored_as_a_relative_link(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    _write(suite, {"shared/conftest.py": "X = 1\n", "data/page.html": "<p>hi</p>\n"})
    (suite / "tests").mkdir()
    (suite / "tests" / "conftest.py").symlink_to("../shared/conftest.py")
    (suite / "tests" / "page.html").symlink_to(suite / "data" / "page.html")  # absolute, but inside
    (suite / "tests" / "data").symlink_to(suite / "data", target_is_directory=True)
    _git(suite, "shared/conftest.py", "data/page.html", "tests/conftest.py", "tests/page.html", "tests/data")
    selection = select(suite)
    links = {e.path: e.link for e in selection.entries if e.link is not None}
    assert links == {"tests/conftest.py": "../shared/conftest.py", "tests/data": "../data", "tests/page.html": "../data/page.html"}
    built = build_bundle(suite, selection.files)
    with zipfile.ZipFile(io.BytesIO(built.data)) as zf:
        info = zf.getinfo("tests/page.html")
        assert info.external_attr >> 16 == stat.S_IFLNK | 0o777 and zf.read(info) == b"../data/page.html"
    # The handler makes them links again, and they work.
    s3 = FakeS3()
    s3.objects[built.key] = built.data
    unpacked = BundleCache(tmp_path / "cache").get({"bucket": "b", "key": built.key, "sha256": built.sha256}, s3).path
    assert (unpacked / "tests" / "conftest.py").is_symlink() and (unpacked / "tests" / "conftest.py").read_text() == "X = 1\n"
    assert (unpacked / "tests" / "data" / "page.html").read_text() == "<p>hi</p>\n"


def _zip_with_link(name: str, target: str, *others: str) -> tuple[bytes, str]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("ok.py", "pass\n")
        info = zipfile.ZipInfo(name)
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, target)
        for other in others:
            zf.writestr(other, "written through the link\n")
    data = buffer.getvalue()
    return data, hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    ("name", "target", "others"),
    [
        ("evil", "/etc", ()),  # absolute
        ("evil", "..", ()),  # the folder above the bundle
        ("a/evil", "../../outside", ()),  # one level too many
        ("a/evil", "b/../../..", ()),  # ".." after a name: lexical and physical answers may differ
        ("evil", "./x", ()),  # not normalised
        ("tmpdir", "a", ("tmpdir/planted.py",)),  # a member written through a link
    ],
)
def test_the_handler_refuses_links_that_leave_the_bundle(tmp_path: Path, name: str, target: str, others: tuple[str, ...]) -> None:
    data, sha = _zip_with_link(name, target, *others)
    s3 = FakeS3()
    s3.objects["bundles/evil.zip"] = data
    with pytest.raises(InvalidEvent) as info:
        BundleCache(tmp_path / "cache").get({"bucket": "b", "key": "bundles/evil.zip", "sha256": sha}, s3)
    assert info.value.error_type == "BundleInvalid"
    assert not list((tmp_path / "cache").glob("*/evil")) and not (tmp_path / "outside").exists()


# -- special files ----------------------------------------------------------------------------


def test_special_files_are_never_opened_and_dev_zero_never_read(tmp_path: Path) -> None:
    """A FIFO would block an open() forever and /dev/zero never ends: the check runs in a child
    with a memory cap, so a regression fails here instead of hanging or eating the machine."""
    suite = tmp_path / "suite"
    _write(suite, {"test_a.py": "pass\n"})
    os.mkfifo(suite / "pipe")
    (suite / "zero").symlink_to("/dev/zero")
    (suite / "inner_pipe").symlink_to("pipe")
    child = textwrap.dedent(
        f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
        from lambda_ui.runner.bundle import BundleProblem, BundleRules, build_bundle, select
        for rules in (BundleRules(include=("*",)), BundleRules(needed=({str(suite / "pipe")!r}, {str(suite / "zero")!r}))):
            s = select({str(suite)!r}, rules)
            print(s.files, sorted((i.path, i.reason) for i in s.left_out))
            build_bundle({str(suite)!r}, s.files)
        for name in ("pipe", "zero", "inner_pipe"):
            try:
                build_bundle({str(suite)!r}, [name])
            except BundleProblem as exc:
                print("refused", name)
        """
    )
    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", child], cwd=repo, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    expected_left_out = [
        ("inner_pipe", "a symlink to a FIFO (special files are never opened)"),
        ("pipe", "a FIFO (special files are never opened)"),
        ("zero", "a symlink to a path outside the rootdir (never followed)"),
    ]
    assert lines[0] == f"['test_a.py'] {expected_left_out}"
    assert lines[1].startswith("[] [('pipe', 'a FIFO") and "('zero', 'a symlink to a path outside the rootdir" in lines[1]
    assert lines[2:] == ["refused pipe", "refused zero", "refused inner_pipe"]


# -- the deny list ----------------------------------------------------------------------------

SECRET_SHAPED = [
    ".env", ".env.local", "config/.env.production", "id_rsa", "keys/id_ed25519", "tls/server.pem", "tls/server.key",
    ".aws/credentials", "home/.ssh/config", ".netrc", "cert.p12", "cert.pfx", ".npmrc", ".pypirc", "credentials.json",
    "ID_RSA",
]


def test_secret_shaped_names_are_left_out_even_when_tracked(tmp_path: Path) -> None:
    _write(tmp_path, {"test_a.py": "pass\n", "keyboard.py": "pass\n", "environment.py": "pass\n", **{rel: SECRET for rel in SECRET_SHAPED}})
    _git(tmp_path, ".")
    selection = select(tmp_path)
    assert selection.files == ["environment.py", "keyboard.py", "test_a.py"]
    assert sorted(item.path for item in selection.left_out) == sorted(SECRET_SHAPED)
    assert all("looks like a secret" in item.reason for item in selection.left_out)
    assert denied("sub/.git/config") == ".git/" and denied("a/.ssh/known_hosts") == ".ssh/"  # git never lists a .git folder itself


def test_an_include_overrides_the_deny_list_with_a_warning(tmp_path: Path) -> None:
    _write(tmp_path, {"test_a.py": "pass\n", ".env.example": "URL=\n", ".env": SECRET})
    _git(tmp_path, "test_a.py", ".env.example", ".env")
    selection = select(tmp_path, BundleRules(include=(".env.example",)))
    assert selection.files == [".env.example", "test_a.py"]
    assert selection.warnings() == [
        "left out .env: its name looks like a secret (deny list: .env*); hand the tests the variables it sets with"
        " --lambda-env NAME (or the ini lambda_env), or name it in lambda_bundle_include to ship it",
        "included .env.example although its name is on the deny list (lambda_bundle_include names it)",
    ]


# -- the run's own outputs ---------------------------------------------------------------------


def test_the_runs_own_outputs_and_caches_never_ship(tmp_path: Path) -> None:
    _write(tmp_path, {
        "test_a.py": "pass\n", "r.xml": "<testsuites/>", "report.html": "<html/>", "out/run-1/test_a/failure-screenshot.png": "png",
        ".pytest_cache/v/cache/lastfailed": "{}", "__pycache__/test_a.cpython-311.pyc": "pyc", "pkg/__pycache__/m.pyc": "pyc",
    })
    _git(tmp_path, "test_a.py")
    outputs = (str(tmp_path / "r.xml"), str(tmp_path / "report.html"), str(tmp_path / "out"), str(tmp_path / ".pytest_cache"))
    assert select(tmp_path, BundleRules(include=("*",), outputs=outputs)).files == ["test_a.py"]
    # Even when tracked by mistake.
    _git(tmp_path, ".")
    assert select(tmp_path, BundleRules(outputs=outputs)).files == ["test_a.py"]


# -- outside git: what collection needed ----------------------------------------------------------


def test_outside_git_only_what_collection_needed_ships(tmp_path: Path) -> None:
    _write(tmp_path, {
        "tests/test_a.py": "pass\n", "tests/conftest.py": "", "helpers/__init__.py": "", "helpers/pages.py": "pass\n",
        "pytest.ini": "[pytest]\n", "notes.txt": "mine\n", ".aws/credentials": SECRET, ".ssh/id_rsa": SECRET, ".env": SECRET,
        "out/x.png": "png", "r.xml": "<x/>", "data/users.json": "[]",
    })
    needed = tuple(str(tmp_path / rel) for rel in ("tests/test_a.py", "tests/conftest.py", "helpers/__init__.py", "helpers/pages.py", "pytest.ini"))
    selection = select(tmp_path, BundleRules(needed=needed, include=("data/*",)))
    assert selection.source == "collected"
    assert selection.files == ["data/users.json", "helpers/__init__.py", "helpers/pages.py", "pytest.ini", "tests/conftest.py", "tests/test_a.py"]
    assert selection.left_out == []


def test_files_read_while_collected_ship_but_caches_environments_and_outputs_do_not(tmp_path: Path) -> None:
    _write(tmp_path, {
        "test_a.py": "pass\n", "features/login.feature": "Feature: x\n", "features/unread.feature": "Feature: y\n",
        ".pytest_cache/v/cache/lastfailed": "{}", ".venv/share/data.txt": "x", "node_modules/pkg/x.json": "{}",
        ".lambda-ui/durations.json": "{}", "__pycache__/test_a.cpython-311.pyc": "pyc",
    })
    read = tuple(str(tmp_path / rel) for rel in (
        "features/login.feature", ".pytest_cache/v/cache/lastfailed", ".venv/share/data.txt", "node_modules/pkg/x.json",
        ".lambda-ui/durations.json", "__pycache__/test_a.cpython-311.pyc", "setup.cfg",  # probed, absent
    ))
    rules = BundleRules(needed=(str(tmp_path / "test_a.py"),), read=read, outputs=(str(tmp_path / ".lambda-ui"),))
    selection = select(tmp_path, rules)
    assert selection.files == ["features/login.feature", "test_a.py"] and selection.left_out == []
    # In git, a read file git does not track is named, as an imported module is.
    _git(tmp_path, "test_a.py")
    assert select(tmp_path, rules).warnings() == [
        "left out features/login.feature: git does not track it, but the collected tests need it: git add it, or name it in lambda_bundle_include",
    ]


def test_the_listing_is_largest_first_with_the_rest_summed() -> None:
    entries = [Entry(f"f{n:02}.py", n * 100) for n in range(1, 26)] + [Entry("link.py", 9, link="f01.py")]
    lines = Selection("git", entries).listing()
    assert lines[0] == f"{'2.5 kB':>10}  f25.py" and lines[19] == f"{'600 B':>10}  f06.py"
    assert lines[20] == f"{'1.5 kB':>10}  ... and 6 more"
    assert lines[21] == f"{'32.5 kB':>10}  total, 26 files (git)"
    assert "link.py -> f01.py" not in "\n".join(lines[:20])


def test_a_file_swapped_after_it_was_looked_at_is_refused_at_open(tmp_path: Path) -> None:
    """Between ``lstat`` and ``open`` a file may become a link or a FIFO: the open itself refuses both, without blocking."""
    from lambda_ui.runner.bundle import _read_regular

    _home_with_credentials(tmp_path)
    (tmp_path / "swapped").symlink_to(tmp_path / "home" / ".aws" / "credentials")
    with pytest.raises(OSError):
        _read_regular(str(tmp_path / "swapped"))
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(BundleProblem, match="no longer a regular file"):
        _read_regular(str(tmp_path / "pipe"))

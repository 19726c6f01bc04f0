"""Test bundles: the suite's sources as one deterministic, content-addressed zip.

The same files give the same bytes and so the same sha256, which names the
object in S3: an unchanged suite is uploaded once.

What ships (issue #13): in a git checkout, the files git tracks; outside one,
the files collection needed (test files, their conftests, the ini file, the
modules imported from the rootdir and the data files the suite read while it
was collected, such as pytest-bdd's ``.feature`` files). Untracked files ship only when the ini
``lambda_bundle_include`` names them. Whatever the source, a candidate is
left out when it is

* a secret-shaped name (:data:`DENY_NAMES`, :data:`DENY_FOLDERS`), unless an
  include names it (then it ships with a warning);
* a symlink that leads outside the rootdir, dangles, or leads to a special file;
  a symlink that stays inside is stored as a link (its target made relative);
* a FIFO, socket or device (never opened);
* under a symlinked folder;
* this run's own output, a cache, or an ini ``lambda_bundle_exclude`` match.

Globs are matched with :func:`fnmatch.fnmatchcase` against the rootdir-relative
posix path: ``*`` also matches ``/`` (``data/*`` is everything under ``data``),
and a pattern ending in ``/`` names a folder and everything under it.
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import os
import site
import stat
import subprocess
import sys
import zipfile
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest

_FIXED_TIME = (2000, 1, 1, 0, 0, 0)

#: Lambda's /tmp is bounded and a bundle is fetched on every cold start.
DEFAULT_MAX_BUNDLE_BYTES = 100 * 1024 * 1024

#: File names (matched case-insensitively) that look like secrets: never shipped unless an include names them.
DENY_NAMES = (
    ".env*", "*.pem", "*.key", "id_*", ".netrc", "_netrc", "*.p12", "*.pfx", ".npmrc", ".pypirc", "credentials*",
    ".git-credentials", ".pgpass", ".htpasswd", "*.jks", "*.keystore", "*.kdbx", "*.tfstate", "*.tfstate.*",
)
#: Folders whose contents look like secrets, wherever they are in the path.
DENY_FOLDERS = frozenset({".aws", ".ssh", ".git", ".gnupg", ".docker", ".kube", ".azure"})

#: Never shipped, and never walked into when looking for includes: caches and environments.
NOISE_DIRS = frozenset({
    "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".git", ".hg", ".svn",
    ".venv", "venv", ".tox", ".nox", "node_modules",
})
NOISE_SUFFIXES = (".pyc", ".pyo")

#: Read at the rootdir by pytest, so shipped when present (outside git).
INI_NAMES = ("pytest.ini", ".pytest.ini", "pyproject.toml", "setup.cfg", "tox.ini")

#: How many left-out files the terminal names before "... and N more".
SHOWN = 20


class BundleProblem(Exception):
    """The suite cannot be bundled; the message says what to do."""


@dataclass(frozen=True)
class BundleRules:
    """What a run asks of the selection.

    ``needed`` are absolute paths collection used (test files, conftests, the ini
    file, imported modules): outside git they are the selection; in git they
    only earn a warning when left out. ``read`` are files the suite read while
    it was collected (a pytest-bdd feature file, a CSV of test cases): needed
    too, except caches, environments and this run's outputs. ``outputs`` are
    files or folders this run writes (absolute): never shipped, so they never
    change the bundle's hash.
    """

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    needed: tuple[str, ...] = ()
    read: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Entry:
    """One member of the bundle: a regular file, or a symlink with its relative ``link`` target."""

    path: str
    size: int
    link: str | None = None


@dataclass(frozen=True)
class LeftOut:
    path: str
    reason: str
    #: The deny-list rule that left it out, if one did (``.env*``).
    denied_by: str = ""


@dataclass
class Selection:
    """The bundle's members and what was left out of it, with the reason."""

    source: str  # "git" or "collected"
    entries: list[Entry] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)
    #: Files an include ships although their name is on the deny list.
    overridden: list[str] = field(default_factory=list)

    @property
    def files(self) -> list[str]:
        return [e.path for e in self.entries]

    @property
    def size(self) -> int:
        return sum(e.size for e in self.entries)

    def warnings(self, said: Collection[str] = ()) -> list[str]:
        """One line per file left out or shipped against the deny list, at most :data:`SHOWN` of each;
        ``said``: paths the caller tells about in its own words."""
        lines = [f"left out {item.path}: {item.reason}" for item in self.left_out if item.path not in said]
        lines = _capped(lines, "left out")
        names = [f"included {path} although its name is on the deny list (lambda_bundle_include names it)" for path in self.overridden]
        return lines + _capped(names, "included")

    def listing(self, top: int = SHOWN) -> list[str]:
        """The members by size, largest first: ``top`` of them, then "... and N more", then the total."""
        ordered = sorted(self.entries, key=lambda e: (-e.size, e.path))
        lines = [f"{_human(e.size):>10}  {e.path}" + (f" -> {e.link}" if e.link is not None else "") for e in ordered[:top]]
        if len(ordered) > top:
            rest = ordered[top:]
            lines.append(f"{_human(sum(e.size for e in rest)):>10}  ... and {len(rest)} more")
        lines.append(f"{_human(self.size):>10}  total, {len(ordered)} files ({self.source})")
        return lines


def _capped(lines: list[str], verb: str) -> list[str]:
    if len(lines) <= SHOWN:
        return lines
    return lines[:SHOWN] + [f"{verb} ... and {len(lines) - SHOWN} more"]


def _human(size: int) -> str:
    if size < 1000:
        return f"{size} B"
    if size < 1_000_000:
        return f"{size / 1000:.1f} kB"
    return f"{size / 1e6:.1f} MB"


# -- matching ------------------------------------------------------------------------


def matches(rel: str, pattern: str) -> bool:
    """``pattern`` against a rootdir-relative posix path (fnmatch: ``*`` crosses ``/``; ``dir/`` is a folder)."""
    pattern = pattern.strip().removeprefix("./")
    if not pattern:
        return False
    if pattern.endswith("/"):
        return rel.startswith(pattern) or fnmatch.fnmatchcase(rel, pattern + "*")
    return fnmatch.fnmatchcase(rel, pattern)


def _any(rel: str, patterns: Iterable[str]) -> bool:
    return any(matches(rel, p) for p in patterns)


def denied(rel: str) -> str | None:
    """The deny rule a path falls under, or None."""
    parts = rel.split("/")
    for folder in parts[:-1]:
        if folder.lower() in DENY_FOLDERS:
            return f"{folder}/"
    name = parts[-1].lower()
    return next((pattern for pattern in DENY_NAMES if fnmatch.fnmatchcase(name, pattern)), None)


def _existing(tree: _Tree, paths: Iterable[str]) -> Iterator[str]:
    """The relative paths of ``paths`` below the root that exist: an open that failed (a probe for
    an optional file, a missing .pyc) is recorded too, and names no file the suite needs."""
    for path in paths:
        rel = tree.relative(path)
        if rel is not None and os.path.lexists(path):
            yield rel


def _data_file(rel: str, outputs: Sequence[str]) -> bool:
    """Whether a file read during collection is the suite's data: not a cache, an environment's
    file (a .venv in the rootdir) or one of this run's outputs (the durations history)."""
    return not (_output_or_cache(rel, outputs) or NOISE_DIRS.intersection(rel.split("/")[:-1]))


def _output_or_cache(rel: str, outputs: Sequence[str]) -> bool:
    return _noise(rel) or any(rel == out or rel.startswith(out + "/") for out in outputs)


def _noise(rel: str) -> bool:
    parts = rel.split("/")
    return rel.endswith(NOISE_SUFFIXES) or any(part in ("__pycache__", ".pytest_cache") for part in parts[:-1])


# -- looking at one path without following it ------------------------------------------


class _Tree:
    """The rootdir, seen through ``lstat``: nothing is followed, opened or read here."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.abs = os.path.abspath(root)
        self.real = os.path.realpath(root)
        self._dirs: dict[str, bool] = {"": True}

    def relative(self, path: str | os.PathLike[str]) -> str | None:
        """``path`` as a normalised rootdir-relative posix path, or None when it lies outside."""
        for base, full in ((self.abs, os.path.abspath(path)), (self.real, os.path.realpath(path))):
            rel = os.path.relpath(full, base)
            if rel != "." and not rel.startswith(".." + os.sep) and rel != "..":
                return rel.replace(os.sep, "/")
        return None

    def real_folder(self, rel_dir: str) -> bool:
        """Whether every component of ``rel_dir`` is a real folder (no symlink on the way)."""
        if rel_dir not in self._dirs:
            parent, _, _ = rel_dir.rpartition("/")
            try:
                ok = self.real_folder(parent) and stat.S_ISDIR(os.lstat(os.path.join(self.real, rel_dir)).st_mode)
            except OSError:
                ok = False
            self._dirs[rel_dir] = ok
        return self._dirs[rel_dir]

    def inspect(self, rel: str) -> Entry | LeftOut | None:
        """What ``rel`` would ship as, why it cannot, or None when it does not exist."""
        folder = rel.rpartition("/")[0]
        if not self.real_folder(folder):
            return LeftOut(rel, "it lies under a symlinked folder") if os.path.lexists(os.path.join(self.real, rel)) else None
        full = os.path.join(self.real, rel)
        try:
            info = os.lstat(full)
        except OSError:
            return None  # deleted but still tracked
        mode = info.st_mode
        if stat.S_ISREG(mode):
            return Entry(rel, info.st_size)
        if stat.S_ISLNK(mode):
            return self._link(rel, full)
        return LeftOut(rel, _kind(mode))

    def _link(self, rel: str, full: str) -> Entry | LeftOut:
        target = os.path.realpath(full)
        if target != self.real and not target.startswith(self.real + os.sep):
            return LeftOut(rel, "a symlink to a path outside the rootdir (never followed)")
        try:
            mode = os.stat(target).st_mode  # stat only: the target is never opened
        except OSError:
            return LeftOut(rel, "a dangling or looping symlink")
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            return LeftOut(rel, f"a symlink to {_kind(mode)}")
        relative = os.path.relpath(target, os.path.dirname(full)).replace(os.sep, "/")
        return Entry(rel, len(relative.encode()), link=relative)

    def walk(self) -> Iterator[str]:
        """Every non-folder below the rootdir, symlinks to folders included, without entering links or noise folders."""
        for dirpath, dirnames, filenames in os.walk(self.real):
            prefix = os.path.relpath(dirpath, self.real).replace(os.sep, "/")
            prefix = "" if prefix == "." else prefix + "/"
            keep = []
            for name in sorted(dirnames):
                if os.path.islink(os.path.join(dirpath, name)):
                    yield prefix + name  # a link is an entry; its folder is never entered
                elif name not in NOISE_DIRS and not name.endswith(".egg-info"):
                    keep.append(name)
            dirnames[:] = keep
            for name in sorted(filenames):
                yield prefix + name


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (special files are never opened)"
    if stat.S_ISSOCK(mode):
        return "a socket (special files are never opened)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device (special files are never opened)"
    if stat.S_ISDIR(mode):
        return "a folder, not a file (a git submodule?)"
    return "not a regular file"


# -- selecting ------------------------------------------------------------------------


def _remedy(rule: str) -> str:
    # A dotenv file's values can travel as variables instead of as a file in the bucket.
    variables = "hand the tests the variables it sets with --lambda-env NAME (or the ini lambda_env), or " if rule == ".env*" else ""
    return f"{variables}name it in lambda_bundle_include to ship it"


def select(root: str | os.PathLike[str], rules: BundleRules = BundleRules()) -> Selection:
    """The bundle for ``root`` under ``rules``: git-tracked files (else what collection needed), plus includes."""
    tree = _Tree(root)
    tracked = _git_tracked(Path(tree.real))
    outputs = [rel for rel in (tree.relative(p) for p in rules.outputs) if rel is not None]
    needed = {rel for rel in (tree.relative(p) for p in rules.needed) if rel is not None}
    needed |= {rel for rel in _existing(tree, rules.read) if _data_file(rel, outputs)}
    selection = Selection(source="git" if tracked is not None else "collected")
    base = set(tracked) if tracked is not None else set(needed)
    included = {rel for rel in tree.walk() if _any(rel, rules.include)} if rules.include else set()
    reasons: dict[str, str] = {}
    for rel in sorted(base | included):
        if _output_or_cache(rel, outputs):
            reasons[rel] = "it is this run's own output or a cache"
            continue
        if _any(rel, rules.exclude):
            reasons[rel] = "lambda_bundle_exclude names it"
            continue
        rule = denied(rel)
        if rule and rel not in included:
            selection.left_out.append(LeftOut(rel, f"its name looks like a secret (deny list: {rule}); {_remedy(rule)}", rule))
            continue
        found = tree.inspect(rel)
        if isinstance(found, Entry):
            selection.entries.append(found)
            if rule:
                selection.overridden.append(rel)
        elif isinstance(found, LeftOut):
            selection.left_out.append(found)
    _explain_needed(selection, needed, reasons, tracked is not None)
    return selection


def _explain_needed(selection: Selection, needed: set[str], reasons: dict[str, str], in_git: bool) -> None:
    """Say which files collection used are not in the bundle: their tests will fail in the function."""
    shipped = set(selection.files)
    explained = {item.path for item in selection.left_out}
    for rel in sorted(needed - shipped):
        if rel in explained:
            selection.left_out = [
                LeftOut(i.path, f"{i.reason}; the collected tests need it", i.denied_by) if i.path == rel else i for i in selection.left_out
            ]
        elif rel in reasons:
            if not rel.endswith(NOISE_SUFFIXES):  # a sourceless module: Python rebuilds nothing from it anyway
                selection.left_out.append(LeftOut(rel, f"{reasons[rel]}, but the collected tests need it"))
        elif in_git:
            selection.left_out.append(LeftOut(rel, "git does not track it, but the collected tests need it: git add it, or name it in lambda_bundle_include"))
    selection.left_out.sort(key=lambda i: i.path)


def _git_tracked(base: Path) -> list[str] | None:
    """Files git tracks under ``base`` (relative to it), or None when ``base`` is not in a git work tree."""
    try:
        prefix = subprocess.run(
            ["git", "rev-parse", "--show-prefix"], cwd=base, capture_output=True, text=True, check=True, timeout=60,
        ).stdout.strip()
        out = subprocess.run(
            ["git", "ls-files", "--cached", "--full-name", "-z", "--", "."], cwd=base, capture_output=True, check=True, timeout=60,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    files = []
    for raw in out.split(b"\0"):
        rel = raw.decode("utf-8", "surrogateescape")
        if rel.startswith(prefix) and len(rel) > len(prefix):
            files.append(rel[len(prefix):])
    return files


def select_files(root: str | os.PathLike[str], rules: BundleRules = BundleRules()) -> list[str]:
    """The members' paths only (see :func:`select`)."""
    return select(root, rules).files


# -- what a pytest session needs and writes ---------------------------------------------


def rules_for(session: pytest.Session, local_artifacts: Sequence[str] = (), read: Iterable[str] = ()) -> BundleRules:
    """The rules of this session: ini globs, what collection used and read, and what the run writes."""
    config = session.config
    in_environment = environment_test()
    return BundleRules(
        include=tuple(config.getini("lambda_bundle_include") or ()),
        exclude=tuple(config.getini("lambda_bundle_exclude") or ()),
        needed=tuple(str(p) for p in needed_by(session)),
        read=tuple(sorted(p for p in read if not in_environment(Path(p)))),
        outputs=tuple(str(p) for p in run_outputs(config, local_artifacts)),
    )


def needed_by(session: pytest.Session) -> list[Path]:
    """Test files, the conftests above them, the rootdir's ini files and the modules imported from the rootdir."""
    root = Path(os.path.abspath(session.config.rootpath))
    found: set[Path] = set()
    for item in session.items:
        path = Path(os.path.abspath(item.path))
        found.add(path)
        found.update(_upwards(path.parent, root, "conftest.py"))
    found.update(root / name for name in INI_NAMES if (root / name).is_file())
    if session.config.inipath is not None:
        found.add(Path(os.path.abspath(session.config.inipath)))
    for _name, path in loaded_module_files():
        if path.is_relative_to(root):
            found.add(path)
            found.update(_upwards(path.parent, root, "__init__.py"))
    return sorted(found)


def loaded_module_files() -> Iterator[tuple[str, Path]]:
    """``(name, file)`` of each loaded module with a file outside the Python environment: the
    suite's own code, wherever it lies (runner/outside_imports.py looks beyond the rootdir)."""
    in_environment = environment_test()
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if isinstance(file, str) and not in_environment(path := Path(os.path.abspath(file))):
            yield name, path


def _upwards(folder: Path, root: Path, name: str) -> Iterator[Path]:
    """``folder/name`` and the same name in each parent, up to and including ``root``, where it exists."""
    if not folder.is_relative_to(root):
        return
    while True:
        if (folder / name).is_file():
            yield folder / name
        if folder == root:
            return
        folder = folder.parent


def environment_test() -> Callable[[Path], bool]:
    """Whether a path is in a Python environment (a .venv inside the rootdir): the image's job, not the bundle's."""
    dirs = {sys.prefix, sys.exec_prefix, sys.base_prefix, *site.getsitepackages(), site.getusersitepackages()}
    installed = [Path(os.path.abspath(d)) for d in dirs if d]

    def in_environment(path: Path) -> bool:
        return any(path.is_relative_to(d) for d in installed) or bool({"site-packages", "dist-packages"} & set(path.parts))

    return in_environment


def run_outputs(config: pytest.Config, local_artifacts: Sequence[str] = ()) -> list[Path]:
    """Files and folders this run writes: reports, log file, cache, --basetemp, local artifacts folders."""
    here = Path(config.invocation_params.dir)
    try:
        cache_dir = str(config.getini("cache_dir") or ".pytest_cache")
    except ValueError:  # -p no:cacheprovider: no such ini key
        cache_dir = ".pytest_cache"
    out = [Path(config.rootpath, cache_dir)]
    for dest in ("xmlpath", "htmlpath", "reportlog", "report_log", "log_file", "basetemp"):
        value = getattr(config.option, dest, None)
        if value:
            out.append(here / str(value))
    out.extend(here / folder for folder in local_artifacts if folder and not folder.startswith("s3://"))
    return [Path(os.path.abspath(p)) for p in out]


# -- zipping ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BuiltBundle:
    data: bytes
    sha256: str
    files: int

    @property
    def key(self) -> str:
        return f"bundles/{self.sha256}.zip"


def build_bundle(root: str | os.PathLike[str], relpaths: Iterable[str]) -> BuiltBundle:
    """Zip ``relpaths`` (relative to ``root``) with fixed timestamps and modes; symlinks stay links.

    Each path is looked at again here (it may have changed since it was selected):
    anything but a regular file or an inside link stops the build.
    """
    tree = _Tree(root)
    buffer = io.BytesIO()
    count = 0
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for rel in sorted({r.replace(os.sep, "/") for r in relpaths}):
            found = tree.inspect(rel)
            if not isinstance(found, Entry):
                reason = found.reason if isinstance(found, LeftOut) else "it no longer exists"
                raise BundleProblem(f"cannot bundle {rel}: {reason}; it changed while the bundle was built, or was never selected")
            info = zipfile.ZipInfo(rel, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix: the mode bits below mean what they say
            if found.link is not None:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                zf.writestr(info, found.link)
            else:
                info.external_attr = 0o644 << 16
                zf.writestr(info, _read_regular(os.path.join(tree.real, rel)))
            count += 1
    data = buffer.getvalue()
    return BuiltBundle(data=data, sha256=hashlib.sha256(data).hexdigest(), files=count)


def _read_regular(path: str) -> bytes:
    """A regular file's bytes. O_NOFOLLOW and O_NONBLOCK: a file swapped for a link or a FIFO is refused, not waited on."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise BundleProblem(f"cannot bundle {path}: it is no longer a regular file")
        return handle.read()


def check_size(root: str | os.PathLike[str], relpaths: list[str], limit: int = DEFAULT_MAX_BUNDLE_BYTES) -> int:
    """The members' total size (links count as their target text); over ``limit`` is a :class:`BundleProblem`."""
    base = Path(root)
    sizes = [(os.lstat(base / rel).st_size, rel) for rel in relpaths]
    total = sum(size for size, _ in sizes)
    if total > limit:
        largest = ", ".join(f"{rel} ({size / 1e6:.1f} MB)" for size, rel in sorted(sizes, reverse=True)[:5])
        raise BundleProblem(
            f"the test bundle would be {total / 1e6:.1f} MB, over the {limit / 1e6:.0f} MB limit. "
            f"Largest files: {largest}. Leave them out with lambda_bundle_exclude, or raise --lambda-max-bundle-mb."
        )
    return total

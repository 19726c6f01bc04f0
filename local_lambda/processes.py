"""Finding every process of one execution environment, measuring it, and killing it.

An environment is its runtime process and everything it started. Chrome's helpers leave the
tree (crashpad handlers call setsid and are re-parented to init), so a process also belongs
to the environment when it shares the environment's mount namespace, its session or process
group, or mentions the environment's private directory in its command line or environment.
Once seen, a member stays known until it exits (pid and start time, against pid reuse).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import psutil

_HOST_MNT_NS = ""
try:
    _HOST_MNT_NS = os.readlink("/proc/self/ns/mnt")
except OSError:
    pass


def _mnt_ns(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/ns/mnt")
    except OSError:
        return ""


@dataclass
class Snapshot:
    """One pass over the process table: pid -> (ppid, start time)."""

    parents: dict[int, int] = field(default_factory=dict)
    started: dict[int, float] = field(default_factory=dict)
    _by_parent: dict[int, list[int]] | None = None  # built once, asked by every environment

    def _children(self) -> dict[int, list[int]]:
        if self._by_parent is None:
            self._by_parent = {}
            for pid, ppid in self.parents.items():
                self._by_parent.setdefault(ppid, []).append(pid)
        return self._by_parent

    @classmethod
    def take(cls) -> Snapshot:
        """Read every /proc/<pid>/stat once. The memory monitor takes one every 100 ms while
        environments run: psutil's process_iter cost 60 us a process here, 17 ms a sample
        with 16 environments' Chromes (240 processes), CPU their tests did not get."""
        snap = cls()
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as stat:
                    line = stat.read()
                # The name in parentheses may hold spaces and ")": fields follow the last ")".
                fields = line[line.rindex(b")") + 2 :].split()
                pid = int(entry.name)
                snap.parents[pid] = int(fields[1])
                # Start time in clock ticks since boot: with the pid, who the process is.
                snap.started[pid] = float(fields[19])
            except (OSError, ValueError, IndexError):
                continue  # gone between the listing and the read
        return snap

    def descendants(self, root: int) -> set[int]:
        children = self._children()
        found: set[int] = set()
        stack = [root]
        while stack:
            for child in children.get(stack.pop(), []):
                if child not in found:
                    found.add(child)
                    stack.append(child)
        return found


class ProcessSet:
    """The processes of one environment."""

    def __init__(self, root_pid: int, private_dir: str | None, count_root: bool = True) -> None:
        """``count_root``: False when the root is a sandbox's launcher, whose memory is the
        platform's, not the function's."""
        self.root_pid = root_pid
        self.count_root = count_root
        self.private_dir = private_dir
        self.mnt_ns = ""
        self._ns_fd: int | None = None
        self._known: dict[int, float] = {}
        # Processes outside the tree found not to be ours (pid -> start time): a sample every
        # 100 ms checked each of 32 crashpad handlers of 16 environments' Chromes again, in
        # every environment (54 ms a sample). What a process is marked by does not change.
        self._foreign: dict[int, float] = {}
        self._own_pid = os.getpid()
        # Kills and root replacements take turns: a kill still sweeping the old runtime
        # (its rounds re-read the root) must never reach the one a reset starts.
        self._kill_lock = threading.RLock()

    def learn_namespace(self) -> None:
        """Record the runtime's mount namespace (call once it runs, after the launcher).

        A descriptor on the namespace is held until :meth:`release`: the kernel reuses the
        inode number of a freed namespace, and a new environment whose namespace got the
        same number must never be taken for this one. A reset's runtime (environment.py)
        joins the same namespace through that descriptor, so it is learnt only once.
        """
        if self._ns_fd is not None:
            return
        try:
            fd = os.open(f"/proc/{self.root_pid}/ns/mnt", os.O_RDONLY)
        except OSError:
            return
        ns = _mnt_ns(self.root_pid)
        if ns and ns != _HOST_MNT_NS and os.readlink(f"/proc/self/fd/{fd}") == ns:
            self.mnt_ns, self._ns_fd = ns, fd
            self._foreign.clear()  # a new mark: what was not ours may be now
        else:
            os.close(fd)

    @property
    def ns_fd(self) -> int | None:
        """The held descriptor on the environment's mount namespace (None: not learnt)."""
        return self._ns_fd

    def release(self) -> None:
        """Let the namespace go (after the last kill)."""
        if self._ns_fd is not None:
            os.close(self._ns_fd)
            self._ns_fd = None
        self.mnt_ns = ""

    def _marked(self, pid: int) -> bool:
        if self.mnt_ns and _mnt_ns(pid) == self.mnt_ns:
            return True
        if self.private_dir:
            try:
                proc = psutil.Process(pid)
                if any(self.private_dir in arg for arg in proc.cmdline()):
                    return True
                return bool(proc.environ().get("TMPDIR") == self.private_dir)
            except psutil.Error:
                return False
        return False

    def members(self, snap: Snapshot, thorough: bool = False) -> set[int]:
        """Member pids. ``thorough`` also checks processes outside the tree (for kills)."""
        pids = {self.root_pid} if self.root_pid in snap.parents else set()
        pids |= snap.descendants(self.root_pid)
        for pid, started in list(self._known.items()):
            if snap.started.get(pid) == started:
                pids.add(pid)
            else:
                del self._known[pid]
        # Orphans are where escaped helpers end up; a kill looks at everything, every time.
        outside = snap.parents if thorough else {p: pp for p, pp in snap.parents.items() if pp <= 1}
        if not thorough:
            self._foreign = {pid: started for pid, started in self._foreign.items() if snap.started.get(pid) == started}
        for pid in outside:
            if pid in pids or pid in (self._own_pid, 1):
                continue
            if not thorough and pid in self._foreign:
                continue
            if self._marked(pid) or (thorough and _same_session(pid, self.root_pid)):
                pids.add(pid)
                pids |= snap.descendants(pid)
            elif not thorough and pid in snap.started:
                self._foreign[pid] = snap.started[pid]
        pids.discard(self._own_pid)
        pids.discard(1)
        for pid in pids:
            if pid in snap.started:
                self._known[pid] = snap.started[pid]
        return pids

    def memory_bytes(self, snap: Snapshot) -> int:
        return memory_in_use([pid for pid in self.members(snap) if self.count_root or pid != self.root_pid])

    @contextmanager
    def replacing_root(self) -> Iterator[None]:
        """Hold off every kill while a reset kills what is left and starts the next root."""
        with self._kill_lock:
            yield

    def kill(self, rounds: int = 5) -> int:
        """SIGKILL every member until none is left; returns how many were signalled."""
        with self._kill_lock:
            return self._kill(rounds)

    def _kill(self, rounds: int) -> int:
        killed: set[int] = set()
        for _ in range(rounds):
            _signal_group(self.root_pid)
            pids = self.members(Snapshot.take(), thorough=True)
            alive = [pid for pid in pids if _alive(pid)]
            if not alive:
                break
            for pid in alive:
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed.add(pid)
                except OSError:
                    pass
            time.sleep(0.02)
        return len(killed)


def _signal_group(pgid: int) -> None:
    # The runtime leads its own session and process group (start_new_session).
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass


def _same_session(pid: int, sid: int) -> bool:
    try:
        return bool(os.getsid(pid) == sid or os.getpgid(pid) == sid)
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def memory_in_use(pids: Iterable[int]) -> int:
    """What these processes hold in memory, as one machine counts it: each one's private and
    shared-memory pages, and file-backed pages once, as the largest set any of them maps.

    Summing resident set sizes counted the Chrome binary and its libraries once per Chrome
    process (951 MB against 410 MB this way for one Chrome and its Python; their PSS: 214 MB),
    so an example run showed Max Memory Used above a 2048 MB function on most of its tests.
    /proc/<pid>/status is read, not smaps: Chrome's thousands of mappings make that ~4 ms
    a process, too slow for a sample every 100 ms.
    """
    own = files = 0
    for pid in pids:
        anonymous, file_backed = _resident(pid)
        own += anonymous
        files = max(files, file_backed)
    return own + files


def _resident(pid: int) -> tuple[int, int]:
    """(anonymous + shared-memory, file-backed) resident bytes of one process; (0, 0) once it is gone."""
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            text = status.read()
    except OSError:
        return 0, 0
    return _kib(text, b"\nRssAnon:") + _kib(text, b"\nRssShmem:"), _kib(text, b"\nRssFile:")


def _kib(status: bytes, key: bytes) -> int:
    """One "Name:   123 kB" field of /proc/<pid>/status in bytes (0 if absent). Found, not
    split line by line: 11 reads per environment every 100 ms."""
    start = status.find(key)
    if start < 0:
        return 0
    try:
        return int(status[start + len(key) : status.index(b"\n", start + 1)].split()[0]) * 1024
    except (ValueError, IndexError):
        return 0


def peak_rss_bytes(pid: int) -> int:
    """The kernel's high-water mark of one process's RSS (VmHWM), 0 if unknown."""
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            return _kib(status.read(), b"\nVmHWM:")
    except OSError:
        return 0


def any_alive(pids: Iterable[int]) -> list[int]:
    return [pid for pid in pids if _alive(pid)]

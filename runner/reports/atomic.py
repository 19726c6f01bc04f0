"""Write a file so that a reader sees the old file or the whole new one, never half of it.

The bytes go to a uniquely named temporary file in the target's folder, which
is renamed over the target only when complete; on any error (a full disk, an
exception while rendering, Ctrl-C) the temporary file is removed, so nothing
half-written remains.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_atomic(target: Path, write: Callable[[Path], object]) -> None:
    """Call ``write`` with a temporary path next to ``target``, then rename it onto ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name[:100]}.", suffix=".part")
    os.close(handle)
    temporary = Path(name)
    try:
        write(temporary)
        os.chmod(temporary, 0o644)  # mkstemp makes it 0600; the result is an ordinary file
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_bytes_atomic(target: Path, data: bytes) -> None:
    write_atomic(target, lambda path: path.write_bytes(data))

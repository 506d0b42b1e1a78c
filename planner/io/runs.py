"""Run folders: written aside and renamed into place.

A run is written aside into a hidden temporary folder next to its destination and
moved into place in one rename when complete, so an interrupted run leaves no
half-written folder and an existing run is never overwritten without ``force``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from planner.io.safe import safe_child
from planner.model.errors import OutputExistsError

PARTIAL = ".partial-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_partials(base: Path) -> list[Path]:
    """Delete half-written run folders left by a process that was killed (SIGKILL, power cut)."""
    removed = []
    for p in Path(base).glob(f".*{PARTIAL}*"):
        try:
            pid = int(p.name.split(PARTIAL, 1)[1].split("-", 1)[0])
        except (IndexError, ValueError):
            continue
        if p.is_dir() and not _alive(pid):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


def _raise_on_sigterm():
    """Turn SIGTERM into an exception so a terminated run cleans up like an interrupted one."""
    import signal

    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not in the main thread
        return None


@contextlib.contextmanager
def run_folder(base: Path, name: str, force: bool = False):
    """Yield a temporary folder; on success it becomes ``base/name`` atomically.

    The folder is written aside as ``.NAME.partial-PID-…``: an exception, Ctrl-C or SIGTERM
    removes it; after a SIGKILL the next run removes it (its process is gone).
    """
    import signal

    base = Path(base)
    base.mkdir(parents=True, exist_ok=True)
    final = safe_child(base, name)
    if final.exists() and not force:
        raise OutputExistsError(
            f"output folder {final} exists; choose another --run name or pass --force to replace it"
        )
    remove_stale_partials(base)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}{PARTIAL}{os.getpid()}-", dir=base))
    previous = _raise_on_sigterm()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if final.exists():  # --force: move the old run aside first, delete it only once the new one is in place
        old = Path(tempfile.mkdtemp(prefix=f".{final.name}.old-", dir=base))
        os.replace(final, old / "run")
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, final)


def free_name(out: Path, name: str) -> str:
    """``name``, or ``name-2``, ``name-3``… whichever is not yet a folder in ``out``."""
    if not (Path(out) / name).exists():
        return name
    k = 2
    while (Path(out) / f"{name}-{k}").exists():
        k += 1
    return f"{name}-{k}"

"""Writing reports: all or nothing, and only where a report may go.

A report is written to a new path or over an existing regular file (whose mode it keeps); a
symbolic link is followed and its regular target replaced, the link kept. Directories, FIFOs,
sockets and device nodes are refused. The command line also refuses a read-only file without
`--force`, a file that is one of the command's inputs, and two outputs naming the same file.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType

from mbcalc.errors import OutputError


def output_target(path: Path) -> Path:
    """The file a report for `path` replaces or creates: a symbolic link's target, resolved.

    Refuses a directory, a special file (FIFO, socket, device) and a missing parent folder.
    """
    try:
        info = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):  # the folder is checked below
        info = None
    except OSError as exc:
        raise OutputError(f"{path}: cannot write here: {exc.strerror or exc}") from None
    except ValueError as exc:  # a NUL character in the path
        raise OutputError(f"{path}: cannot write here: {exc}") from None
    if info is not None and stat.S_ISLNK(info.st_mode):
        try:
            return output_target(path.resolve(strict=False))
        except (OSError, RuntimeError):
            raise OutputError(f"{path}: a symbolic link that leads nowhere (a loop)") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise OutputError(f"{path}: is a directory")
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise OutputError(
            f"{path}: is not a regular file (a FIFO, socket or device)",
            hint="write to a new file or a regular one",
        )
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        problem = "is not a folder" if folder.exists() else "does not exist"
        raise OutputError(f"{path}: the folder {folder} {problem}")
    return path


def check_outputs(outputs: Sequence[Path | None], inputs: Sequence[str], force: bool) -> None:
    """Refuse, before any work, outputs a command must not write (see the module docstring).

    `inputs` are the command's file arguments (specs, device files); names that are not files
    (a shipped spec) are skipped.
    """
    chosen = [path for path in outputs if path is not None]
    targets = [output_target(path) for path in chosen]
    for path, target in zip(chosen, targets, strict=True):
        if not force and target.exists() and not _writable(target):
            raise OutputError(f"{path}: is read-only", hint="use --force to replace it")
        for argument in inputs:
            if _same_file(target, Path(argument)):
                raise OutputError(
                    f"{path}: is the input {argument}; a report never replaces its input"
                )
    for index, target in enumerate(targets):
        for earlier in targets[:index]:
            if _same_file(target, earlier) or target.resolve() == earlier.resolve():
                raise OutputError(f"{chosen[index]}: two outputs of the command name this file")


def _writable(path: Path) -> bool:
    """Whether `path` may be written: by its permission bits, even for root."""
    return os.access(path, os.W_OK) and bool(path.stat().st_mode & 0o222)


def _same_file(first: Path, second: Path) -> bool:
    try:
        return os.path.samefile(first, second)
    except (OSError, ValueError):
        return False


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write `text` (UTF-8) or bytes to `path` through a temporary file and a rename.

    A failure, or SIGTERM while writing, leaves no partial file and an existing file untouched.
    """
    path = output_target(path)
    with _terminate_as_exit():
        try:
            # The name is cut short so that a long file name still leaves room for the suffixes.
            handle, temporary = tempfile.mkstemp(
                prefix=f".{path.name[:64]}.", suffix=".tmp", dir=path.parent
            )
        except OSError as exc:
            raise OutputError(f"{path}: cannot write here: {exc.strerror or exc}") from None
        try:
            _fill(handle, temporary, path, text)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise


def _fill(handle: int, temporary: str, path: Path, text: str | bytes) -> None:
    """Write the temporary file, give it `path`'s mode (or the default), rename it to `path`."""
    try:
        data = text.encode("utf-8") if isinstance(text, str) else text
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        if path.exists():
            with contextlib.suppress(OSError):
                os.chmod(temporary, path.stat().st_mode & 0o777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror or exc}") from None
    except UnicodeEncodeError as exc:
        raise OutputError(
            f"{path}: cannot write: the report is not valid UTF-8 ({exc.reason})"
        ) from None


@contextlib.contextmanager
def _terminate_as_exit() -> Iterator[None]:
    """SIGTERM raises SystemExit (status 143) in the main thread, so that `finally` runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)

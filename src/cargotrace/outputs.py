"""Writing an output file so that a failure never destroys what was there.

Every file cargotrace writes for the user (exports, the HTML report, the PDF, the demo's
outputs) is first written to a temporary file beside the target and renamed over it only
once complete: a bad path, a full disk, a killed process or a missing Chromium leaves the
previous file as it was (at worst a stray `.NAME.*.part` file beside it). A target that
exists and is not a regular file (a folder, a device such as /dev/full, a pipe) is refused,
never replaced.
"""

from __future__ import annotations

import errno
import json
import math
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cargotrace.errors import InputError

_REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exhausted",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "it is a folder",
    errno.ENAMETOOLONG: "the name is too long",
    errno.ELOOP: "too many symbolic links",
}


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def os_reason(exc: OSError) -> str:
    """A short, plain reason for an operating-system error."""
    return _REASONS.get(exc.errno or 0) or exc.strerror or str(exc)


def check_output_path(target: Path, option: str = "--out") -> None:
    """Refuse, with a message, a target that cannot be a file: a folder, a special file,
    or a path under a file."""
    target = Path(target)
    if target.is_symlink() and not target.exists():
        raise InputError(
            f"{option} {target}: it is a symbolic link to nothing; remove it or choose another name"
        )
    if target.exists() and not target.is_file():
        what = "a folder" if target.is_dir() else "not a regular file"
        raise InputError(f"{option} {target}: it is {what}; give the path of a file to write")
    for parent in target.parents:
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                raise InputError(
                    f"{option} {target}: {parent} is a file, not a folder; choose another path"
                )
            break


@contextmanager
def atomic_output(target: Path, option: str = "--out") -> Iterator[Path]:
    """Yield a temporary path beside `target`; once the block ends without error it is
    renamed over `target` (atomically, on the same file system). On any error the
    temporary file is removed and `target` is left as it was; operating-system errors
    become an `InputError` naming the file and the reason."""
    target = Path(target)
    check_output_path(target, option)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(
            prefix=f".{target.name[:100]}.", suffix=".part", dir=target.parent
        )
        os.fchmod(fd, 0o666 & ~_umask())  # the mode an ordinary new file gets
        os.close(fd)
    except OSError as exc:
        raise InputError(f"cannot write {target}: {os_reason(exc)}") from None
    temp = Path(name)
    try:
        yield temp
        with open(temp, "rb+") as handle:  # the bytes reach the disk before the rename
            os.fsync(handle.fileno())
        if target.exists() and not target.is_file():  # appeared meanwhile
            raise InputError(f"{option} {target}: it is not a regular file; not replaced")
        os.replace(temp, target)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise InputError(
            f"cannot write {target}: {os_reason(exc)}; it was left as it was"
        ) from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def iso(value: Any) -> Any:
    """A date or time as ISO 8601 text; any other value as it is (for JSON)."""
    return value.isoformat() if hasattr(value, "isoformat") else value


def finite(value: Any) -> Any:
    """`value` with every non-finite float (NaN, ±inf) replaced by None, recursively: JSON
    has no NaN, and a bare `NaN` makes a file other tools refuse."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def json_text(value: Any, **options: Any) -> str:
    """Strict JSON (no NaN/Infinity) of `value`; non-finite numbers become null."""
    return json.dumps(finite(value), ensure_ascii=False, allow_nan=False, default=str, **options)

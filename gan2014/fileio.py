"""Writing files so that a crash never leaves half of one, and JSONL logs that survive a kill.

* An **atomic write** goes to a temporary file in the target's own folder (a rename never crosses
  file systems), is flushed and fsynced, is renamed over the target with ``os.replace``, and then
  the folder is fsynced so that the rename itself is on disk. A reader sees the old file or the
  new one, never a mixture; a failed write removes its temporary file and leaves the old target.
* A **JSONL log** gets one JSON object per line, appended and fsynced row by row. A process killed
  while appending leaves a *torn* last line (part of a row, no newline): readers skip it, and the
  next append cuts it off first, so that it never ends up in the middle of the file. A bad line
  anywhere else is damage that nothing here made; reading it is an error that names the file and
  the line.

A leaf module: it imports nothing from the project.
"""
import contextlib
import hashlib
import json
import os
import secrets
import sys
from pathlib import Path


class JSONLError(ValueError):
    """A JSONL file with a line that is not JSON before its last line (not a torn append)."""


def fsync_directory(directory):
    """Make a rename inside ``directory`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _create_beside(target, prefix, suffix, permissions):
    """A new file ``<folder>/<prefix><name>.<random><suffix>``; returns (fd, path).

    Created with mode 0o666 less the umask (what ``open`` gives), so the target keeps the usual
    permissions; ``permissions`` sets them exactly instead."""
    target = Path(target)
    for _ in range(100):
        path = target.with_name(f"{prefix}{target.name}.{secrets.token_hex(4)}{suffix}")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        if permissions is not None:
            os.chmod(path, permissions)
        return fd, path
    raise FileExistsError(f"no free temporary name beside {target}")


@contextlib.contextmanager
def temporary_beside(target, binary=True, prefix="", suffix=".tmp", permissions=None,
                     newline=None):
    """Yield ``(handle, path)`` of a new temporary file in ``target``'s folder.

    On a clean exit the data is flushed, fsynced and the file closed (the caller renames it with
    :func:`replace`, possibly after checking it); on an exception the file is removed."""
    fd, path = _create_beside(target, prefix, suffix, permissions)
    try:
        if binary:
            handle = os.fdopen(fd, "wb")
        else:
            handle = os.fdopen(fd, "w", encoding="utf-8", newline=newline)
        with handle:
            yield handle, path
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        raise


def replace(temporary, target):
    """Rename a finished temporary file over ``target`` and make the rename durable."""
    os.replace(temporary, target)
    fsync_directory(Path(target).parent)


@contextlib.contextmanager
def atomic_writer(target, binary=True, prefix="", suffix=".tmp", permissions=None, newline=None):
    """Yield a handle whose contents replace ``target`` atomically when the block ends without an
    exception (and leave ``target`` untouched otherwise)."""
    with temporary_beside(target, binary, prefix, suffix, permissions, newline) as (handle, path):
        yield handle
    replace(path, target)


def write_text_atomically(target, text, newline=None):
    with atomic_writer(target, binary=False, newline=newline) as handle:
        handle.write(text)


def write_json_atomically(target, record):
    """``record`` as indented JSON with sorted keys and a final newline, written atomically."""
    write_text_atomically(target, json.dumps(record, indent=2, sort_keys=True) + "\n")


# -------------------------------------------------------------------------------------- JSONL
def read_jsonl(path, missing_ok=False):
    """The rows of a JSONL file, skipping blank lines and a torn last line (noted on stderr).

    A missing file is ``[]`` with ``missing_ok``, else FileNotFoundError. A line before the last
    that is not JSON raises :class:`JSONLError` naming the file and the line."""
    path = Path(path)
    if missing_ok and not path.is_file():
        return []
    lines = [(number, line) for number, line in
             enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if line.strip()]
    rows = []
    for position, (number, line) in enumerate(lines, 1):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as error:
            if position < len(lines):
                raise JSONLError(f"{path} line {number} is not valid JSON ({error.msg}, column "
                                 f"{error.colno}) and is not the last line, so not an append cut "
                                 "short by a crash: the file is damaged") from error
            print(f"Note: {path} line {number} is not complete JSON (a write that was cut short); "
                  "it is ignored.", file=sys.stderr)
    return rows


def append_jsonl(path, row, sort_keys=True):
    """Append ``row`` as one line and fsync it (cutting off a torn last line left by a crash)."""
    line = (json.dumps(row, sort_keys=sort_keys) + "\n").encode("utf-8")
    with open(path, "ab+") as handle:
        _cut_torn_tail(handle)
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())


def _cut_torn_tail(handle, block=1 << 16):
    """Truncate ``handle``'s file after its last newline (nothing to do when it ends with one)."""
    end = handle.seek(0, os.SEEK_END)
    if end == 0:
        return
    handle.seek(end - 1)
    if handle.read(1) == b"\n":
        return
    position = end
    while position > 0:
        start = max(0, position - block)
        handle.seek(start)
        found = handle.read(position - start).rfind(b"\n")
        if found >= 0:
            handle.truncate(start + found + 1)
            return
        position = start
    handle.truncate(0)


def sha256_of(path, block=1 << 20):
    """The SHA-256 of a file's bytes, read a block at a time (checkpoints are tens of MB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(block), b""):
            digest.update(chunk)
    return digest.hexdigest()

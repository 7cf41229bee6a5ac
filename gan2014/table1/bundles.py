"""Moving a run folder between machines: a gzipped tar cut into pieces of a chosen size.

``pack_bundle`` writes what changed since the last ``unpack_bundle`` (every file, the first time;
of the checkpoints only each seed's latest), or what a fresh machine needs to continue training;
``unpack_bundle`` merges a bundle into a folder of the same experiment. The size of a piece and the
most pieces a bundle may take are the limits of the link between the machines: arguments (the
command's ``--piece-mib`` and ``--max-pieces``), not constants.
"""
import gzip
import json
import os
import shutil
import zlib
from pathlib import Path

from gan2014 import fileio
from gan2014.fileio import read_jsonl, write_json_atomically
from gan2014.table1.layout import (DRIVER_LOG, HISTORY, MANIFEST, STATUS, TEST_PARZEN, Table1Error,
                                   latest_epoch, read_status, seed_dir, seed_numbers)
from gan2014.table1.manifest import read_manifest

BUNDLE_PREFIX = "table1_bundle."
BUNDLE_PIECE_MIB = 64          # default size of a piece (--piece-mib)
BUNDLE_INDEX = ".bundle_index.json"
# Never travel: the run-folder lock, temporary files, the index itself. monitor.csv is rebuilt from
# monitor.jsonl on unpacking (it holds the same rows), which saves a third of the logs' bytes.
NOT_BUNDLED = (".lock", BUNDLE_INDEX, "monitor.csv")


class _Pieces:
    """A write-only file object that cuts what is written into ``PREFIX000``, ``PREFIX001``, ...,
    each ``piece`` bytes long (the last one shorter)."""

    def __init__(self, folder, piece):
        self.folder, self.piece = Path(folder), piece
        self.paths, self._handle, self._left = [], None, 0

    def write(self, data):
        view = memoryview(data)
        while len(view):
            if self._left == 0:
                self._next()
            part = view[:self._left]
            self._handle.write(part)
            self._left -= len(part)
            view = view[len(part):]
        return len(data)

    def _next(self):
        if self._handle is not None:
            self._handle.close()
        path = self.folder / f"{BUNDLE_PREFIX}{len(self.paths):03d}"
        self._handle, self._left = open(path, "wb"), self.piece
        self.paths.append(path)

    def flush(self):
        if self._handle is not None:
            self._handle.flush()

    def close(self):
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def _file_stamp(path):
    info = path.stat()
    return [info.st_size, info.st_mtime_ns]


def bundle_files(out, mode):
    """Paths (relative to ``out``) a bundle carries. ``mode`` 'changed': every file that differs
    from the index the last unpack wrote (all, without one), of each seed's checkpoints only the
    latest; 'resume': what a fresh machine needs to continue training. The manifest is always
    one."""
    out = Path(out)
    latest = {}
    for seed in seed_numbers(out):
        _, path = latest_epoch(seed_dir(out, seed))
        latest[seed] = path
    keep = set()
    for path in out.rglob("*"):
        relative = path.relative_to(out)
        if not path.is_file() or path.name in NOT_BUNDLED or path.name.endswith(".tmp"):
            continue
        if relative.parts[-2:-1] == ("checkpoints",):
            seed = int(relative.parts[0][len("seed_"):]) if relative.parts[0].startswith("seed_") \
                else None
            if latest.get(seed) != path:
                continue
        keep.add(relative)
    if mode == "changed":
        index_path = out / BUNDLE_INDEX
        index = json.loads(index_path.read_text(encoding="utf-8")) if index_path.is_file() else {}
        # The manifest always travels: unpacking checks that bundle and folder are one run.
        return sorted(r for r in keep if r == Path(MANIFEST)
                      or index.get(r.as_posix()) != _file_stamp(out / r))
    if mode != "resume":
        raise ValueError(f"unknown bundle mode {mode!r}")
    chosen = {Path(MANIFEST), Path(DRIVER_LOG)} & keep
    for seed in seed_numbers(out):
        folder = Path(f"seed_{seed}")
        chosen |= {folder / name for name in (STATUS, HISTORY, TEST_PARZEN)} & keep
        if read_status(out / folder).get("state") not in ("finished", "ended", "diverged"):
            # A seed still training: its logs, its latest checkpoint and its best parameters
            # (the test Parzen at its end reads them).
            chosen |= {r for r in keep if r.parts[0] == folder.name}
    return sorted(chosen)


def pack_bundle(out, folder, mode="changed", piece_mib=BUNDLE_PIECE_MIB, max_pieces=None):
    """Write a bundle of ``out`` into ``folder`` (a gzipped tar in pieces of ``piece_mib`` MiB);
    returns the pieces. With ``max_pieces``, a bundle that needs more pieces is refused (and
    nothing is left in ``folder``).
    """
    import tarfile

    read_manifest(out)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stale = sorted(folder.glob(BUNDLE_PREFIX + "*"))
    if stale:
        raise Table1Error(f"{folder} already holds a bundle ({stale[0].name}, ...): pack into an "
                          "empty folder")
    files = bundle_files(out, mode)
    piece_bytes = max(1, int(piece_mib * 2 ** 20))
    pieces = _Pieces(folder, piece_bytes)
    # gzip level 1: the text logs shrink a lot even at the fastest level; checkpoints (float32
    # mantissas) barely compress, so a higher level would cost time for nothing.
    with gzip.GzipFile(fileobj=pieces, mode="wb", compresslevel=1, mtime=0) as stream, \
            tarfile.open(fileobj=stream, mode="w|") as archive:
        for relative in files:
            archive.add(Path(out) / relative, arcname=relative.as_posix(), recursive=False)
    pieces.close()
    total = sum(p.stat().st_size for p in pieces.paths)
    if max_pieces is not None and len(pieces.paths) > max_pieces:
        for path in pieces.paths:
            path.unlink()
        largest = sorted(files, key=lambda r: -(Path(out) / r).stat().st_size)[:5]
        raise Table1Error(f"the bundle of {out} would take {len(pieces.paths)} pieces of "
                          f"{piece_mib:g} MiB ({total / 2 ** 20:.0f} MiB), more than --max-pieces "
                          f"{max_pieces}; largest files: "
                          + ", ".join(f"{r} ({(Path(out) / r).stat().st_size / 2 ** 20:.1f} MiB)"
                                      for r in largest)
                          + ". Train fewer seeds per command (--seeds K) or use larger pieces.")
    print(f"Packed {len(files)} files of {out} into {len(pieces.paths)} piece(s), "
          f"{total / 2 ** 20:.1f} MiB, in {folder}.", flush=True)
    return pieces.paths


class _Joined:
    """A read-only file object over the pieces of a bundle, in order."""

    def __init__(self, paths):
        self.paths, self._handle = list(paths), None

    def read(self, size=-1):
        chunks = []
        while size != 0 and (self._handle is not None or self.paths):
            if self._handle is None:
                self._handle = open(self.paths.pop(0), "rb")
            data = self._handle.read(size)
            if not data:
                self._handle.close()
                self._handle = None
                continue
            chunks.append(data)
            size = size - len(data) if size > 0 else size
        return b"".join(chunks)


def unpack_bundle(out, folder):
    """Merge the bundle in ``folder`` into ``out`` (its files replace those of the same name), then
    rebuild each seed's monitor.csv and record the index the next ``--pack`` compares against."""
    import tarfile

    folder, out = Path(folder), Path(out)
    paths = sorted(folder.glob(BUNDLE_PREFIX + "*"))
    if not paths:
        raise Table1Error(f"{folder} holds no bundle ({BUNDLE_PREFIX}000, ...)")
    numbers = [int(p.name[len(BUNDLE_PREFIX):]) for p in paths]
    if numbers != list(range(len(paths))):
        raise Table1Error(f"{folder}: bundle pieces {numbers} are not 000 to "
                          f"{len(paths) - 1:03d} without gaps: a piece is missing")
    staging = out.with_name(out.name + ".unpacking")
    if staging.exists():
        shutil.rmtree(staging)
    try:
        with gzip.GzipFile(fileobj=_Joined(paths), mode="rb") as stream, \
                tarfile.open(fileobj=stream, mode="r|") as archive:
            for member in archive:
                name = Path(member.name)
                if not member.isfile() or name.is_absolute() or ".." in name.parts:
                    raise Table1Error(f"{folder}: the bundle holds {member.name!r}, which is not a "
                                      "plain file inside the run folder; nothing was unpacked")
                if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4: the strict filter too
                    archive.extract(member, staging, set_attrs=False, filter="data")
                else:
                    archive.extract(member, staging, set_attrs=False)
                stamp = int(round(member.mtime * 10 ** 9))
                os.utime(staging / name, ns=(stamp, stamp))
    except (tarfile.TarError, EOFError, OSError, zlib.error) as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise Table1Error(f"{folder}: the bundle cannot be read ({type(error).__name__}: {error}); "
                          "a piece may be cut short. Nothing was unpacked.") from error
    try:
        incoming = read_manifest(staging)
        if (out / MANIFEST).is_file():
            mine = read_manifest(out)
            keys = ("config_sha256", "backend", "protocol")
            if any(mine.get(k) != incoming.get(k) for k in keys):
                raise Table1Error(f"the bundle in {folder} comes from a run with another "
                                  f"configuration than {out} (compare their {MANIFEST}); nothing "
                                  "was unpacked")
        elif out.exists() and any(out.iterdir()):
            raise Table1Error(f"--out {out} is not empty and holds no {MANIFEST}: not a table1 "
                              "folder; nothing was unpacked")
        moved = []
        for path in sorted(staging.rglob("*")):
            if path.is_file():
                target = out / path.relative_to(staging)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target)
                moved.append(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for seed in seed_numbers(out):
        _rebuild_monitor_csv(seed_dir(out, seed))
    index = {p.relative_to(out).as_posix(): _file_stamp(p) for p in out.rglob("*")
             if p.is_file() and p.name not in NOT_BUNDLED}
    write_json_atomically(out / BUNDLE_INDEX, index)
    print(f"Unpacked {len(moved)} files from {folder} into {out}.", flush=True)
    return moved


def _rebuild_monitor_csv(folder):
    """monitor.csv from monitor.jsonl: the same rows and columns MonitorLog wrote (the first row's
    channels, in its order)."""
    import csv

    rows = read_jsonl(Path(folder) / "monitor.jsonl", missing_ok=True)
    if not rows:
        return
    with fileio.atomic_writer(Path(folder) / "monitor.csv", binary=False, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)

"""Download and unpack the CIFAR-10 python batches where ``CIFAR10`` looks for them.

Usage (from the repository root, so that the default ``./data`` is the git-ignored ``data/``)::

    python -m gan2014.datasets.fetch_cifar10 [--data-path DIR] [--archive PATH] [--force]

Pylearn2 left this to ``pylearn2/scripts/datasets/download_cifar10.sh`` (wget the archive, untar it
into ``${PYLEARN2_DATA_PATH}/cifar10/``). Here the archive ``cifar-10-python.tar.gz`` is downloaded
from the University of Toronto (or taken from ``--archive``), its md5 is compared with the one
published on https://www.cs.toronto.edu/~kriz/cifar.html, and only the eight files the archive is
known to hold are written, to paths built from those known names, so a tampered archive cannot
write anywhere else (no path traversal, no links). Files are written to temporary names and renamed
only once every batch has been unpacked.
"""
import argparse
import http.client
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.request
import zlib

from gan2014 import fileio
from gan2014.datasets.errors import DatasetError
from gan2014.datasets.cifar10 import (ARCHIVE_URL, BATCH_FOLDER, TEST_BATCH, TRAIN_BATCHES,
                                      batch_dir)
from gan2014.datasets.data_path import DATA_PATH_VARIABLE
from gan2014.datasets.safe_pickle import md5_file

ARCHIVE_NAME = "cifar-10-python.tar.gz"
HOME_PAGE = "https://www.cs.toronto.edu/~kriz/cifar.html"
# The md5 published on HOME_PAGE.
ARCHIVE_MD5 = {ARCHIVE_NAME: "c58f30108f718f92721af3b95e74349a"}
REQUIRED_FILES = TRAIN_BATCHES + (TEST_BATCH,)
OPTIONAL_FILES = ("batches.meta", "readme.html")
DOWNLOAD_TIMEOUT_S = 60


def how_to_get_archive(reason):
    """The message for a failed download: where to get the archive and how to hand it over."""
    return ("could not download %s (%s). On a machine with network access, download %s (about "
            "163 MB, md5 %s) from %s, copy it here and run: python -m "
            "gan2014.datasets.fetch cifar10 --archive PATH/%s"
            % (ARCHIVE_URL, reason, ARCHIVE_NAME, ARCHIVE_MD5[ARCHIVE_NAME], HOME_PAGE,
               ARCHIVE_NAME))


def download_archive(folder, url=ARCHIVE_URL, opener=None, log=print):
    """Download ``url`` into ``folder/cifar-10-python.tar.gz`` and return that path.

    ``opener`` (default ``urllib.request.urlopen``) exists for tests. Any network failure becomes
    a ``DatasetError`` that says how to use ``--archive`` instead.
    """
    opener = urllib.request.urlopen if opener is None else opener
    target = os.path.join(folder, ARCHIVE_NAME)
    log("downloading %s (about 163 MB) ..." % url)
    try:
        with opener(url, timeout=DOWNLOAD_TIMEOUT_S) as response, open(target, "wb") as handle:
            shutil.copyfileobj(response, handle, 1 << 20)
    except (OSError, http.client.HTTPException) as exc:  # URLError and timeouts are OSErrors
        raise DatasetError(how_to_get_archive(exc)) from exc
    return target


def check_archive_md5(path, md5_table):
    """Raise ``DatasetError`` unless the archive's md5 is the published one."""
    if not os.path.isfile(path):
        raise DatasetError("archive not found: %s" % path)
    expected = md5_table[ARCHIVE_NAME]
    actual = md5_file(path)
    if actual != expected:
        raise DatasetError("%s: md5 %s does not match the published CIFAR-10 md5 %s; nothing was "
                           "extracted" % (path, actual, expected))


def extract_batches(archive, folder, log=print):
    """Unpack the known members of ``archive`` into ``folder``; return the names written.

    The archive is read as a stream. Each member named ``cifar-10-batches-py/<known name>`` must be
    a regular file; every other member is skipped. The required batches must all be present before
    anything is renamed into place; temporary files are removed on any failure.
    """
    wanted = {BATCH_FOLDER + "/" + name: name for name in REQUIRED_FILES + OPTIONAL_FILES}
    os.makedirs(folder, exist_ok=True)
    temporaries, skipped = {}, 0
    try:
        with tarfile.open(archive, mode="r|gz") as tar:
            for member in tar:
                name = wanted.get(member.name)
                if name is None:
                    if member.name.rstrip("/") != BATCH_FOLDER:  # the folder entry is expected
                        skipped += 1
                    continue
                if not member.isreg() or name in temporaries:
                    raise DatasetError("%s: member %s is %s; refusing to extract it"
                                       % (archive, member.name,
                                          "repeated" if name in temporaries else "not a file"))
                temporaries[name] = _write_temporary(folder, name, tar.extractfile(member))
        missing = [name for name in REQUIRED_FILES if name not in temporaries]
        if missing:
            raise DatasetError("%s has no %s; nothing was extracted"
                               % (archive, ", ".join(BATCH_FOLDER + "/" + n for n in missing)))
        for name in list(temporaries):
            fileio.replace(temporaries.pop(name), os.path.join(folder, name))
            log("wrote %s" % os.path.join(folder, name))
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise DatasetError("cannot read %s: %s" % (archive, exc)) from exc
    finally:
        for temporary in temporaries.values():
            if os.path.exists(temporary):
                os.remove(temporary)
    if skipped:
        log("skipped %d unexpected member(s) of %s" % (skipped, archive))
    return sorted(name for name in REQUIRED_FILES + OPTIONAL_FILES
                  if os.path.isfile(os.path.join(folder, name)))


def _write_temporary(folder, name, source):
    """Copy ``source`` to a new temporary file in ``folder``; the file is removed if that fails."""
    # 0o644 whatever the umask: datasets are normally world-readable.
    with fileio.temporary_beside(os.path.join(folder, name), prefix=".", suffix=".part",
                                 permissions=0o644) as (handle, path):
        # A truncated archive fails here, in the middle of the member.
        shutil.copyfileobj(source, handle, 1 << 20)
    return str(path)


def fetch_cifar10(root=None, archive=None, force=False, md5_table=None, download=None,
                  log=print):
    """Make ``<root>/cifar10/cifar-10-batches-py/`` hold the CIFAR-10 batches; return that folder.

    ``root`` defaults to the data path. With ``archive`` no download happens. Existing batches are
    kept unless ``force``. ``md5_table`` (default ``ARCHIVE_MD5``) and ``download`` (default
    :func:`download_archive`) exist for tests.
    """
    md5_table = ARCHIVE_MD5 if md5_table is None else md5_table
    download = download_archive if download is None else download
    folder = batch_dir(root)
    if not force and all(os.path.isfile(os.path.join(folder, n)) for n in REQUIRED_FILES):
        log("CIFAR-10 already present in %s (pass --force to unpack it again)" % folder)
        return folder
    parent = os.path.dirname(folder)
    os.makedirs(parent, exist_ok=True)
    # The download goes next to the data (not /tmp, which may be small) and is deleted afterwards.
    with tempfile.TemporaryDirectory(prefix=".download-", dir=parent) as scratch:
        path = archive or download(scratch, log=log)
        log("checking the md5 of %s ..." % path)
        check_archive_md5(path, md5_table)
        extract_batches(path, folder, log=log)
    log("CIFAR-10 ready in %s" % folder)
    return folder


def add_arguments(parser):
    """The command-line options, for this module and for a ``fetch cifar10`` subcommand."""
    parser.add_argument("--data-path", help="dataset root (default: $%s, else ./data)"
                        % DATA_PATH_VARIABLE)
    parser.add_argument("--archive", help="use this already-downloaded %s instead of "
                        "downloading it" % ARCHIVE_NAME)
    parser.add_argument("--force", action="store_true",
                        help="unpack the archive again even if the batches exist")
    return parser


def run(args, log=print):
    """Run the command for parsed ``args``; return the exit status (errors go to stderr)."""
    try:
        fetch_cifar10(args.data_path, archive=args.archive, force=args.force, log=log)
    except DatasetError as exc:
        print("error: %s" % exc, file=sys.stderr)
        return 1
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m gan2014.datasets.fetch_cifar10",
        description="Download %s (or use --archive), check its md5 and unpack the batches into "
                    "<data path>/cifar10/%s/." % (ARCHIVE_NAME, BATCH_FOLDER))
    args = add_arguments(parser).parse_args(argv)
    return run(args, log=lambda line: print(line, flush=True))


if __name__ == "__main__":
    sys.exit(main())

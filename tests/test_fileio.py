"""gan2014.fileio: atomic writes and JSONL logs that a crash cannot leave half-written."""
import json
import os
import re
import stat

import pytest

from gan2014 import fileio


def _write_rows(path, rows, tail=""):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows) + tail, encoding="utf-8")


def test_a_torn_last_line_is_skipped_with_a_note(tmp_path, capsys):
    """Property: a last line cut short by a crash mid-append (no newline, not JSON) is skipped and
    the complete rows before it are returned in order; the note names the file and line. Exact."""
    path = tmp_path / "log.jsonl"
    _write_rows(path, [{"epoch": 1}, {"epoch": 2}], tail='{"epoch": 3, "val')
    assert fileio.read_jsonl(path) == [{"epoch": 1}, {"epoch": 2}]
    assert f"{path} line 3" in capsys.readouterr().err


def test_a_bad_line_before_the_last_is_an_error_naming_file_and_line(tmp_path):
    """Property: a line that is not JSON with complete rows after it is not a torn append but
    damage; reading raises JSONLError naming the file and the line number (3, counting the blank
    line 2). Exact."""
    path = tmp_path / "log.jsonl"
    path.write_text('{"epoch": 1}\n\n{"epoch": 2, "va\n{"epoch": 3}\n', encoding="utf-8")
    with pytest.raises(fileio.JSONLError, match=re.escape(f"{path} line 3 ") + ".*damaged"):
        fileio.read_jsonl(path)


def test_a_missing_file_is_empty_only_when_allowed(tmp_path):
    """Property: missing_ok=True gives [] for a missing file; without it FileNotFoundError.
    Exact: the empty list and the exception type."""
    assert fileio.read_jsonl(tmp_path / "none.jsonl", missing_ok=True) == []
    with pytest.raises(FileNotFoundError):
        fileio.read_jsonl(tmp_path / "none.jsonl")


@pytest.mark.parametrize("torn", ["", '{"epoch": 3, "val', "x" * 200000])
def test_appending_after_a_torn_line_cuts_it_off_first(tmp_path, torn):
    """Property: append_jsonl after a crash mid-append removes the torn fragment (short, or longer
    than the 64 KiB block it searches back by) before writing, so every row of the file is
    complete JSON and nothing of the complete rows is lost; with sort_keys the keys are sorted,
    without it they keep the row's order. Exact."""
    path = tmp_path / "log.jsonl"
    _write_rows(path, [{"epoch": 1}, {"epoch": 2}], tail=torn)
    fileio.append_jsonl(path, {"epoch": 4, "b": 1, "a": 2})
    fileio.append_jsonl(path, {"epoch": 5, "b": 1, "a": 2}, sort_keys=False)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {"epoch": 1}, {"epoch": 2}, {"a": 2, "b": 1, "epoch": 4}, {"epoch": 5, "b": 1, "a": 2}]
    assert lines[2] == '{"a": 2, "b": 1, "epoch": 4}' and lines[3].startswith('{"epoch": 5')


def test_appending_to_a_file_that_is_only_a_torn_line(tmp_path):
    """Property: a file holding nothing but a torn first row becomes the one new row. Exact."""
    path = tmp_path / "log.jsonl"
    path.write_text('{"ep', encoding="utf-8")
    fileio.append_jsonl(path, {"epoch": 1})
    assert fileio.read_jsonl(path) == [{"epoch": 1}]


def test_a_failed_atomic_write_keeps_the_target_and_leaves_no_temporary(tmp_path):
    """Property: an exception inside atomic_writer leaves the previous contents of the target and
    no other file in the folder; a clean block replaces the contents. Exact."""
    path = tmp_path / "status.json"
    fileio.write_json_atomically(path, {"state": "finished", "epoch": 5})
    with pytest.raises(RuntimeError):
        with fileio.atomic_writer(path, binary=False) as handle:
            handle.write("half")
            raise RuntimeError("disk full")
    assert sorted(os.listdir(tmp_path)) == ["status.json"]
    assert path.read_text(encoding="utf-8") == '{\n  "epoch": 5,\n  "state": "finished"\n}\n'


def test_temporary_names_and_permissions(tmp_path):
    """Property: the temporary file is '<prefix><name>.<random><suffix>' in the target's folder
    (the names checkpoint clean-up and the dataset fetchers rely on); `permissions` sets the mode
    exactly, and without it the umask decides, as for open(). Exact."""
    target = tmp_path / "epoch_000003.npz"
    with fileio.temporary_beside(target, prefix=".", suffix=".part",
                                 permissions=0o640) as (handle, path):
        handle.write(b"x")
        assert path.parent == tmp_path and path.name.startswith(".epoch_000003.npz.")
        assert path.name.endswith(".part")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    umask = os.umask(0o027)
    try:
        fileio.write_text_atomically(tmp_path / "plain.txt", "y")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode) == 0o640


def test_sha256_of_a_file_read_in_blocks_is_the_digest_of_its_bytes(tmp_path):
    """Exact: a file longer than several blocks, with a short last block, hashes to hashlib's
    digest of the whole bytes (a block dropped or read twice would change it)."""
    import hashlib

    data = bytes(range(256)) * 41 + b"tail"
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    assert fileio.sha256_of(path, block=1000) == hashlib.sha256(data).hexdigest()
    assert fileio.sha256_of(path) == hashlib.sha256(data).hexdigest()

"""``OUT/table1.json``: what makes an output folder one experiment.

It records the YAML text (and its sha256), the backend and the validation protocol; a command
pointing at a folder made with anything different is refused, so that the runs and histories in
one folder always belong together.
"""
import dataclasses
import hashlib
import json
from pathlib import Path

from gan2014.fileio import write_json_atomically
from gan2014.table1.layout import MANIFEST, Table1Error
from gan2014.table1.protocol import VALID_START, VALID_STOP

MANIFEST_FORMAT = "gan2014-table1"
MANIFEST_VERSION = 1


def manifest_record(config_path, yaml_text, backend_name, protocol):
    return {
        "format": MANIFEST_FORMAT, "format_version": MANIFEST_VERSION,
        "config": str(config_path),
        "config_sha256": hashlib.sha256(yaml_text.encode("utf-8")).hexdigest(),
        "yaml": yaml_text,
        "backend": backend_name,
        "protocol": dataclasses.asdict(protocol),
        "valid_images": f"MNIST train[{VALID_START}:{VALID_STOP}]",
    }


def open_out_dir(out, record):
    """Create ``out`` with its manifest, or check that an existing one was made the same way.

    Refused: a non-empty folder that is not a table1 folder; one made from another YAML text,
    backend or validation protocol (its runs and history would not be one experiment).
    """
    out = Path(out)
    path = out / MANIFEST
    if not path.is_file():
        if out.exists() and any(out.iterdir()):
            raise Table1Error(f"--out {out} exists, is not empty and holds no {MANIFEST}: it is "
                              "not a table1 folder; choose another --out (nothing was changed)")
        out.mkdir(parents=True, exist_ok=True)
        write_json_atomically(path, record)
        return record
    existing = read_manifest(out)
    differences = []
    if existing.get("config_sha256") != record["config_sha256"]:
        differences.append(f"the YAML text (this folder: {existing.get('config')}, sha256 "
                           f"{existing.get('config_sha256', '?')[:12]}...; now: "
                           f"{record['config']}, sha256 {record['config_sha256'][:12]}...)")
    if existing.get("backend") != record["backend"]:
        differences.append(f"the backend (this folder: {existing.get('backend')}; now: "
                           f"{record['backend']})")
    for key, value in record["protocol"].items():
        if existing.get("protocol", {}).get(key) != value:
            option = "--" + key.replace("_", "-")
            differences.append(f"{option} (this folder: {existing.get('protocol', {}).get(key)}; "
                               f"now: {value})")
    if differences:
        raise Table1Error(f"--out {out} holds a run made with other settings; they differ in "
                          + "; ".join(differences)
                          + ". Use the folder's settings or another --out (nothing was changed).")
    return existing


def read_manifest(out):
    path = Path(out) / MANIFEST
    if not path.is_file():
        raise Table1Error(f"{out} holds no {MANIFEST}: not a folder made by the table1 driver")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise Table1Error(f"{path} is not valid JSON: {error}") from error
    if record.get("format") != MANIFEST_FORMAT:
        raise Table1Error(f"{path} is not a table1 manifest (format {record.get('format')!r})")
    return record

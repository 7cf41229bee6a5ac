"""`make parity`: run the fast parity suite and print what it measured as a table.

Every parity test reports its measured error through the `parity_record` fixture; this script runs
the suite with a record file, then prints property, backend pair, max error and tolerance, one row
each.
"""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def main():
    with tempfile.TemporaryDirectory() as scratch:
        record = Path(scratch) / "parity.jsonl"
        env = dict(os.environ, GAN2014_PARITY_RECORD=str(record))
        result = subprocess.run([sys.executable, "-m", "pytest", "-q", "parity_tests"], env=env)
        rows = [json.loads(line)
                for line in record.read_text().splitlines()] if record.exists() else []
    print_table(rows)
    return result.returncode


def print_table(rows):
    headers = ("property", "backend pair", "max error", "tolerance")
    cells = [(r["property"], r["pair"], f"{r['max_error']:.3g}", f"{r['tolerance']:.3g}")
             for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h)
              for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    print("\n" + line + "\n" + "-" * len(line))
    for cell in cells:
        print("  ".join(c.ljust(w) for c, w in zip(cell, widths)))
    print(f"\n{len(rows)} measurements.")


if __name__ == "__main__":
    sys.exit(main())

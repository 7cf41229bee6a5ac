"""Command line (mirrors pylearn2/scripts/train.py): `python -m legacy_aesara.run FILE.yaml`.

Options: --max-epochs N, --time-budget S, --out DIR, --resume [CHECKPOINT], --keep-checkpoints K,
--quiet. The YAML is read with this backend's registry and handed to the shared gan2014.train.Train.
"""
import sys

import legacy_aesara  # noqa: F401  (sets AESARA_FLAGS before Aesara is imported)
from gan2014.cli import main
from legacy_aesara.registry import BACKEND, load_registry

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], BACKEND, load_registry))

"""Prepare checkpoints for another device kind: `python -m port_torch.move_streams CHECKPOINT...`.

A torch generator's state is device-specific (a CPU Mersenne Twister state, 5,056 bytes; a CUDA
Philox state, 16), so a checkpoint written on a GPU cannot set the generators of a run resumed on a
CPU, nor the reverse. The port reseeds them from the saved states when it meets that
(random_streams.RandomStreams.restore_checkpoint_arrays), but code written before it did not: this
command rewrites each checkpoint's generator states into the ones that reseeding would reach on
`--device` (default cpu), so that any commit resumes the checkpoint the same way. Parameters,
velocities, counters and metadata are left as they are; a checkpoint whose states already fit is
not touched. Written atomically (gan2014.checkpoint).
"""
import argparse
import sys

from gan2014 import checkpoint as ckpt
from gan2014.exit_codes import EXIT_BAD_INPUT, EXIT_DONE
from port_torch.random_streams import states_for_device


def move(path, device="cpu"):
    """Rewrite ``path``'s generator states for ``device`` where needed; returns whether it did."""
    arrays, meta = ckpt.load_checkpoint(path)
    converted, changed = states_for_device(arrays, device)
    if changed:
        ckpt.save_checkpoint(path, converted, meta)
    return changed


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m port_torch.move_streams",
        description="Rewrite checkpoints' torch generator states for another device kind (what "
                    "resuming them there would reseed them to).")
    parser.add_argument("checkpoints", nargs="+", help="checkpoints (.npz) of the torch port")
    parser.add_argument("--device", default="cpu", help="the device kind to resume on (cpu)")
    args = parser.parse_args(argv)
    for path in args.checkpoints:
        try:
            changed = move(path, args.device)
        except ckpt.CheckpointError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_BAD_INPUT
        print(f"{path}: generator states rewritten for {args.device}" if changed
              else f"{path}: generator states fit {args.device}, unchanged")
    return EXIT_DONE


if __name__ == "__main__":
    sys.exit(main())

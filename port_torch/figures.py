"""Figures 2a and 3 of the paper with the torch port:
`python -m port_torch.figures CHECKPOINT --out figures/`.

Options (gan2014.figures.samples): --out, --prefix, --rows 4, --cols 6, --pairs 6, --steps 10,
--scale, --seed (default 10097, the 2014 Generator's stream seed), --data-path; here also --device.
The model is rebuilt from the checkpoint's YAML (either backend's checkpoint), the noise comes from
a `torch.Generator` on --device seeded --seed (the same draw as `port_torch.parzen` makes), and G is
applied in float32 without tracking gradients.
"""
import sys

import numpy as np
import torch

from gan2014 import parzen_cli
from gan2014.figures import samples as figures
from port_torch.adversarial import GENERATOR_SEED
from port_torch.run import configure_torch


class TorchFigures(figures.FigureBackend):
    name = "port_torch"
    default_seed = GENERATOR_SEED

    def __init__(self, device="cpu"):
        self.device = torch.device(device)

    def load_run(self, path):
        from port_torch.registry import REGISTRY
        built, model, meta = parzen_cli.load_run(path, REGISTRY)
        model.to_device(self.device)
        return model, meta, getattr(built, "dataset", None)

    def noise(self, model, meta, n, seed):
        generator = torch.Generator(device=self.device)
        generator.manual_seed(int(seed))
        return model.generator.get_noise(n, generator).cpu().numpy()

    @torch.no_grad()
    def generate(self, model, z):
        z = torch.as_tensor(np.asarray(z, dtype=np.float32), device=self.device)
        return model.generator(z).cpu().numpy()


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    device = "cpu"
    if "--device" in argv:  # the one option of this backend; the rest are the shared command's
        at = argv.index("--device")
        if at + 1 >= len(argv):
            raise SystemExit("error: --device needs a value (cpu, cuda or cuda:N)")
        device = argv[at + 1]
        del argv[at:at + 2]
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("error: --device cuda, but torch sees no CUDA device")
    configure_torch(device)
    return figures.main(argv, TorchFigures(device))


if __name__ == "__main__":
    sys.exit(main())

"""The 2014 MNIST GAN experiment as Aesara symbolic graphs (goodfeli/adversarial on Pylearn2).

`aesara_flags` must run before Aesara is imported anywhere, so it is the first import here.
"""
from legacy_aesara import aesara_flags  # noqa: F401  (side effect: sets AESARA_FLAGS)

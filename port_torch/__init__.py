"""The 2014 GAN experiment (goodfeli/adversarial on Pylearn2) in PyTorch.

The module map mirrors Pylearn2's, one file per concept, so that a diff against legacy_aesara/ reads
as a translation (docs/ARCHITECTURE.md). Weights stay in Pylearn2's in x out layout everywhere.
"""

"""The seeds of the 2014 experiment, framework-free: every backend, CLI and study imports them here.

Each is the value the original code hard-wired at the place named; changing one here changes the
experiment (the fingerprint tests would fail), so they are written once.
"""

# adversarial :: Generator.__init__ seeded its MRG noise stream with 2014 * 5 + 27 = 10097.
# port_torch seeds its noise / dropout / monitor torch.Generators from it (--seed, default this);
# legacy_aesara's --seed N shifts every MRG seed by N - GENERATOR_NOISE_SEED.
GENERATOR_NOISE_SEED = 2014 * 5 + 27

# pylearn2 SGD's default `seed`: the RandomState that shuffles the minibatches of every epoch.
SGD_BATCH_ORDER_SEED = (2012, 10, 5)

# pylearn2 MLP: the RandomState([2013, 1, 4]) an outer MLP without `seed` draws its weights from
# (and, at graph-build time, the seeds of its dropout passes).
MLP_DEFAULT_SEED = (2013, 1, 4)

# adversarial :: AdversaryCost2 with noise_both: a fresh MRG stream seeded 2014 / 6 + 2 in
# Python 2's integer division, i.e. 337.
NOISE_BOTH_SEED = 2014 // 6 + 2

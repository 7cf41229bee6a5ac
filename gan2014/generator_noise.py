"""The kinds of noise z a generator draws, named as its YAML ``noise:`` key names them.

The 2014 ``Generator.get_noise`` (adversarial/__init__.py) knew 'uniform', 'gaussian' and
'spherical' and raised ``NotImplementedError`` for any other name only when it first drew noise,
deep inside building the training function. Both backends check the name where the YAML builds the
generator instead, so a misspelt kind is one error naming the file and line.
"""

NOISE_KINDS = ("uniform", "gaussian", "spherical")
# The conditional model adds U(0, 1), "uniform within the unit hypercube" (REPRODUCING.md §10).
CONDITIONAL_NOISE_KINDS = NOISE_KINDS + ("unit_uniform",)


def check_noise_kind(owner, noise, kinds):
    """``noise`` if it is one of ``kinds``; else a ValueError naming ``owner`` and the choices."""
    if noise not in kinds:
        raise ValueError(f"{owner}: noise must be one of {', '.join(map(repr, kinds))}, "
                         f"got {noise!r}")
    return noise

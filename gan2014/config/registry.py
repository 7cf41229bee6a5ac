"""The dotted names the 2014 configs use, and how a backend maps them to its own callables.

The YAML loader (:mod:`gan2014.config.yaml_parse`) resolves ``!obj:`` / ``!import`` names only
through a plain ``dict``. Pylearn2 imported whatever dotted name a file contained
(``pylearn2/config/yaml_parse.py :: try_to_import``); here each backend instead builds a registry
with :func:`backend_registry`, keyed by the ORIGINAL names so the unmodified 2014 files load.

* :data:`KNOWN_NAMES` lists every name used by goodfeli/adversarial's five configs.
* :func:`shared_registry` (also available as the module attribute ``SHARED``) holds the
  framework-free entries that live in ``gan2014``; it imports them only when asked, so this module
  never depends on them at import time.
* :func:`not_implemented` makes a placeholder for a name a backend has not written yet.
"""

__all__ = ["KNOWN_NAMES", "SHARED",  # noqa: F822 -- SHARED is served by __getattr__ below
           "backend_registry", "not_implemented", "shared_registry"]

# Every `!obj:` name in mnist.yaml, tfd_pretrain/pretrain.yaml, tfd_pretrain/train.yaml,
# cifar10_fully_connected.yaml and cifar10_convolutional.yaml (names inside comments excluded).
# tests/test_yaml_parse.py checks this list against the files.
KNOWN_NAMES = (
    # pylearn2/train.py, pylearn2/termination_criteria/__init__.py
    "pylearn2.train.Train",
    "pylearn2.termination_criteria.EpochCounter",
    # pylearn2/datasets/
    "pylearn2.datasets.mnist.MNIST",
    "pylearn2.datasets.tfd.TFD",
    "pylearn2.datasets.cifar10.CIFAR10",
    # pylearn2/models/
    "pylearn2.models.mlp.MLP",
    "pylearn2.models.mlp.Linear",
    "pylearn2.models.mlp.RectifiedLinear",
    "pylearn2.models.mlp.Sigmoid",
    "pylearn2.models.mlp.SpaceConverter",
    "pylearn2.models.maxout.Maxout",
    "pylearn2.models.maxout.MaxoutConvC01B",
    "pylearn2.models.dbm.init_sigmoid_bias_from_marginals",
    "pylearn2.space.Conv2DSpace",
    # pylearn2/training_algorithms/
    "pylearn2.training_algorithms.sgd.SGD",
    "pylearn2.training_algorithms.sgd.ExponentialDecay",
    "pylearn2.training_algorithms.learning_rule.Momentum",
    "pylearn2.training_algorithms.learning_rule.MomentumAdjustor",
    # goodfeli/adversarial
    "adversarial.AdversaryPair",
    "adversarial.Generator",
    "adversarial.AdversaryCost2",
    "adversarial.add_layers",
    "adversarial.deconv.Deconv",
)


def not_implemented(name, backend):
    """A stand-in for ``name`` that raises ``NotImplementedError`` when the config builds it.

    It accepts any arguments, so a file that uses ``name`` still parses and the error appears
    only if the object is actually built.
    """
    message = f"{name} is not implemented in the {backend} backend yet"

    def stub(*args, **kwargs):
        raise NotImplementedError(message)

    stub.__name__ = stub.__qualname__ = f"not_implemented[{name}]"
    stub.__doc__ = message
    stub.yaml_name = name
    stub.backend = backend
    return stub


def shared_registry():
    """The framework-free entries both backends use, as a fresh ``{original name: callable}`` dict.

    The imports are inside the function on purpose: this module must import even while the
    dataset and model modules are missing or broken, and only a registry build needs them.
    """
    from gan2014.datasets.cifar10 import CIFAR10
    from gan2014.datasets.mnist import MNIST
    from gan2014.datasets.tfd import TFD
    from gan2014.models.dbm import init_sigmoid_bias_from_marginals
    from gan2014.termination_criteria import EpochCounter
    from gan2014.composite_space import CompositeSpace
    from gan2014.datasets.labels_as_features import LabelsAsFeatures
    from gan2014.space import VectorSpace

    return {
        "pylearn2.datasets.mnist.MNIST": MNIST,
        "pylearn2.datasets.tfd.TFD": TFD,
        "pylearn2.datasets.cifar10.CIFAR10": CIFAR10,
        "pylearn2.models.dbm.init_sigmoid_bias_from_marginals": init_sigmoid_bias_from_marginals,
        "pylearn2.termination_criteria.EpochCounter": EpochCounter,
        # The conditional experiment (yaml_experiments/mnist_conditional.yaml); no 2014 config
        # of goodfeli/adversarial names these.
        "pylearn2.space.VectorSpace": VectorSpace,
        "pylearn2.space.CompositeSpace": CompositeSpace,
        "conditional.LabelsAsFeatures": LabelsAsFeatures,
    }


def __getattr__(attribute):
    # PEP 562: `SHARED` is computed on access, so `from gan2014.config.registry import SHARED`
    # works without importing the shared modules when this module is first imported.
    if attribute == "SHARED":
        return shared_registry()
    raise AttributeError(f"module {__name__!r} has no attribute {attribute!r}")


def backend_registry(own, backend):
    """The registry a backend passes to the loader: ``{**stubs, **SHARED, **own}``.

    Every name in :data:`KNOWN_NAMES` is present; the backend's ``own`` entries win over the
    shared ones, and a name neither provides maps to a :func:`not_implemented` stub that names
    ``backend``. Extra names in ``own`` are kept as they are.
    """
    registry = {name: not_implemented(name, backend) for name in KNOWN_NAMES}
    registry.update(shared_registry())
    registry.update(own)
    return registry

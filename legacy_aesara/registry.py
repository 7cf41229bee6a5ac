"""The YAML registry of this backend: the ORIGINAL dotted names -> legacy_aesara's classes.

`gan2014.config.registry.backend_registry` adds the shared framework-free entries (the MNIST, TFD
and CIFAR10 datasets, init_sigmoid_bias_from_marginals). Every name the five 2014 configs use
now has an implementation; a NotImplementedError stand-in would only appear for a name added to
gan2014.config.registry.KNOWN_NAMES without one.
"""
from gan2014.config.registry import backend_registry

from legacy_aesara import adversarial, conditional_gan, deconv, space
from legacy_aesara.models import composite, maxout, mlp
from legacy_aesara.training_algorithms import alternating_sgd, learning_rule, sgd

BACKEND = "legacy_aesara"


def Train(**kwargs):
    """pylearn2.train.Train -> the shared gan2014.train.Train, imported only when a file builds
    it."""
    from gan2014.train import Train as SharedTrain
    return SharedTrain(**kwargs)


def _add_layers(mlp, pretrained, start_layer=0):
    """adversarial.add_layers as the YAML calls it, handed this registry to rebuild the donor."""
    return adversarial.add_layers(mlp, pretrained, start_layer, registry=load_registry())


OWN = {
    "pylearn2.train.Train": Train,
    "pylearn2.models.mlp.MLP": mlp.MLP,
    "pylearn2.models.mlp.Linear": mlp.Linear,
    "pylearn2.models.mlp.RectifiedLinear": mlp.RectifiedLinear,
    "pylearn2.models.mlp.Sigmoid": mlp.Sigmoid,
    "pylearn2.models.maxout.Maxout": maxout.Maxout,
    "pylearn2.models.maxout.MaxoutConvC01B": maxout.MaxoutConvC01B,
    "pylearn2.models.mlp.SpaceConverter": mlp.SpaceConverter,
    "pylearn2.space.Conv2DSpace": space.Conv2DSpace,
    "adversarial.deconv.Deconv": deconv.Deconv,
    "pylearn2.training_algorithms.sgd.SGD": sgd.SGD,
    "pylearn2.training_algorithms.sgd.ExponentialDecay": sgd.ExponentialDecay,
    "pylearn2.training_algorithms.learning_rule.Momentum": learning_rule.Momentum,
    "pylearn2.training_algorithms.learning_rule.MomentumAdjustor": learning_rule.MomentumAdjustor,
    "adversarial.AdversaryPair": adversarial.AdversaryPair,
    "adversarial.Generator": adversarial.Generator,
    "adversarial.AdversaryCost2": adversarial.AdversaryCost2,
    "adversarial.add_layers": _add_layers,
    # adversarial/sgd.py (alternating D/G steps; no 2014 config uses it)
    "adversarial.sgd.SGD": alternating_sgd.SGD,
    # The conditional model p(x | c) (yaml_experiments/mnist_conditional.yaml; not in 2014's code)
    "pylearn2.models.mlp.CompositeLayer": composite.CompositeLayer,
    "conditional.ConditionalGenerator": conditional_gan.ConditionalGenerator,
    "conditional.ConditionalAdversaryPair": conditional_gan.ConditionalAdversaryPair,
    "conditional.ConditionalAdversaryCost": conditional_gan.ConditionalAdversaryCost,
}


def load_registry():
    return backend_registry(OWN, BACKEND)


REGISTRY = load_registry()

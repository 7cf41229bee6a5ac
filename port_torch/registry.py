"""The YAML registry of the torch port: the ORIGINAL dotted names -> this backend's classes.

The unmodified 2014 YAML files name Pylearn2 and adversarial classes; gan2014's loader looks each
name up here and nowhere else (docs/ARCHITECTURE.md). Names without a torch implementation map to
stubs that raise NotImplementedError when built (gan2014.config.registry.backend_registry).
"""
from gan2014.config.registry import backend_registry
from gan2014.train import Train
from port_torch import adversarial, conditional_gan, deconv, space
from port_torch.models import composite, maxout, mlp
from port_torch.training_algorithms import alternating_sgd, learning_rule, sgd


def _add_layers(mlp, pretrained, start_layer=0):
    """adversarial.add_layers as the YAML calls it, handed this registry to rebuild the donor."""
    return adversarial.add_layers(mlp, pretrained, start_layer, registry=REGISTRY)


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

REGISTRY = backend_registry(OWN, "port_torch")

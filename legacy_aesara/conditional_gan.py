"""The conditional adversarial net p(x | c) as Aesara graphs: the label c is an input of G and D.

Mirrors port_torch/conditional_gan.py, whose docstring gives the data layout ([pixels | one-hot])
and the choices (the fake half carries the real half's labels; per-layer dropout in G; monitoring
conditioned on the batch's labels). The model protocol, the SGD and the monitor are the
unconditional ones (adversarial.py): only how samples are made and what D sees change here.
"""
from collections import OrderedDict

import aesara
import aesara.tensor as at
import numpy as np

from gan2014 import generator_noise
from gan2014.config.checks import check_dropout_options
from gan2014.composite_space import check_two_parts, split_columns
from legacy_aesara.adversarial import (DRAW, NO_DROPOUT, AdversaryCost2, AdversaryPair,
                                       Generator, mask_arguments, mask_inputs, theano_parzen)
from legacy_aesara.models.mlp import quiet_mrg
from legacy_aesara.space import make_theano_batch


def balanced_labels(n, num_classes):
    """n one-hot rows cycling through the classes 0, 1, ..., num_classes - 1, 0, ..."""
    return np.eye(num_classes, dtype=aesara.config.floatX)[np.arange(n) % num_classes]


class ConditionalGenerator(Generator):
    """ConditionalGenerator(mlp, noise, ...): G(z, c) = mlp([z | c]); noise as the torch twin's."""

    NOISE_KINDS = generator_noise.CONDITIONAL_NOISE_KINDS

    def __init__(self, mlp, noise="unit_uniform", monitor_ll=False, ll_n_samples=100,
                 ll_sigma=0.2):
        self.num_classes = check_two_parts("ConditionalGenerator", mlp.get_input_space())
        super().__init__(mlp, noise, monitor_ll, ll_n_samples, ll_sigma)

    def noise_dim(self):
        return self.mlp.get_input_space().components[0].get_total_dimension()

    def get_noise(self, size):
        if isinstance(size, int):
            size = (size, self.noise_dim())
        if self.noise == "unit_uniform":
            with quiet_mrg():
                return self.theano_rng.uniform(low=0., high=1., size=size, dtype="float32")
        return super().get_noise(size)

    def generate(self, labels, noise=None, include_probs=None, masks=None):
        """(S, z): G on [z | labels]; z drawn unless given. `include_probs` (a dict of
        dropout_fprop arguments) turns dropout on, with `masks` fed or drawn."""
        if noise is None:
            noise = self.get_noise((labels.shape[0], self.noise_dim()))
        inputs = at.concatenate([at.cast(noise, labels.dtype), labels], axis=1)
        if include_probs is None:
            return self.mlp.fprop(inputs), noise
        return self.mlp.dropout_fprop(inputs, masks=masks, **include_probs), noise

    def sample_for(self, labels):
        return self.generate(labels)[0]


class ConditionalAdversaryPair(AdversaryPair):
    """AdversaryPair with a ConditionalGenerator and a discriminator on [x | c]."""

    def __init__(self, generator, discriminator, **kwargs):
        if not isinstance(generator, ConditionalGenerator):
            raise TypeError("ConditionalAdversaryPair: the generator must be a "
                            f"ConditionalGenerator, got {type(generator).__name__}")
        classes = check_two_parts("ConditionalAdversaryPair discriminator",
                                  discriminator.get_input_space())
        if classes != generator.num_classes:
            raise ValueError(f"ConditionalAdversaryPair: D reads {classes} label columns but G "
                             f"{generator.num_classes}")
        super().__init__(generator, discriminator, **kwargs)

    def split(self, X):
        return split_columns(self.discriminator.get_input_space(), X)

    def get_monitoring_channels(self, data):
        """The unconditional channels (same names), with G conditioned on the batch's labels."""
        g, d = self.generator, self.discriminator
        x, c = self.split(data)
        rval = OrderedDict()
        if self.monitor_generator:
            z = g.get_noise((data.shape[0], g.noise_dim()))
            inputs = at.concatenate([at.cast(z, data.dtype), c], axis=1)
            for key, value in g.mlp.get_monitoring_channels((inputs, None)).items():
                rval["gen_" + key] = value
            if g.monitor_ll:
                labels = at.constant(balanced_labels(g.ll_n_samples, g.num_classes))
                ll = theano_parzen(x, g.sample_for(labels), g.ll_sigma)
                rval["gen_ll"] = at.cast(ll, aesara.config.floatX).mean()
                rval["gen_nll"] = -rval["gen_ll"]
        if self.monitor_discriminator:
            fake = at.concatenate([g.sample_for(c), c], axis=1)
            d_samp = d.get_monitoring_channels((fake, None))
            for key, value in d_samp.items():
                rval["dis_on_data_" + key] = value   # the 2014 name swap, kept
            for key, value in d.get_monitoring_channels((data, None)).items():
                rval["dis_on_samp_" + key] = value
        return rval


class ConditionalAdversaryCost(AdversaryCost2):
    """AdversaryCost2 for a ConditionalAdversaryPair: both halves of D's batch carry labels.

    Accepts AdversaryCost2's arguments, plus per-layer generator dropout
    (`generator_input_include_probs`, `generator_input_scales`: {layer name: value}).
    """

    def __init__(self, generator_input_include_probs=None, generator_input_scales=None,
                 **kwargs):
        super().__init__(**kwargs)
        check_dropout_options(type(self).__name__,
                              generator_input_include_probs=generator_input_include_probs,
                              generator_input_scales=generator_input_scales)
        if self.no_drop_in_d_for_g or self.noise_both != 0.:
            raise NotImplementedError("ConditionalAdversaryCost: no_drop_in_d_for_g / noise_both")
        self.generator_input_include_probs = generator_input_include_probs
        self.generator_input_scales = generator_input_scales

    def generator_plan(self, g):
        """(include_prob, scale) per G layer input, or (None, None) where dropout is off."""
        return g.mlp.dropout_plan(**self.generator_dropout_arguments())

    def generator_dropout_arguments(self):
        return dict(default_input_include_prob=self.generator_default_input_include_prob,
                    input_include_probs=self.generator_input_include_probs,
                    default_input_scale=self.generator_default_input_scale,
                    input_scales=self.generator_input_scales)

    def build_objectives(self, model, data, noise=None, dropout_masks=DRAW):
        """AdversaryCost2.build_objectives with S = G(z, c), c the real batch's labels, and D's
        fake half [S | c]. Fed masks may hold "gen": one mask per G layer input."""
        g, d = model.generator, model.discriminator
        _x, c = model.split(data)
        m = data.shape[0]
        if noise is None and dropout_masks is not DRAW:
            raise ValueError("feeding dropout masks (or disabling dropout) needs the noise fed too")
        g_on = any(p is not None for p, _ in self.generator_plan(g))
        if dropout_masks is NO_DROPOUT or not g_on:
            S, z = g.generate(c, noise)
        else:
            fed = None if dropout_masks is DRAW else dropout_masks["gen"]
            S, z = g.generate(c, noise, self.generator_dropout_arguments(), fed)
        y_hat1, y_hat0 = self._discriminate(d, data, at.concatenate([S, c], axis=1),
                                            dropout_masks)
        cost = d.layers[-1].cost
        y1, y0 = at.alloc(1, m, 1), at.alloc(0, m, 1)
        d_obj = 0.5 * (cost(y1, y_hat1) + cost(y0, y_hat0))
        g_obj = -cost(y0, y_hat0) if self.generator_objective == "minimax" else cost(y1, y_hat0)
        if self.blend_obj:
            g_obj = ((self.zurich_coeff * g_obj - self.minimax_coeff * d_obj)
                     / (self.zurich_coeff + self.minimax_coeff))
        return {"S": S, "z": z, "y_hat1": y_hat1, "y_hat0": y_hat0, "d_obj": d_obj,
                "g_obj": g_obj, "i_obj": 0}

    def get_monitoring_channels(self, model, data, **kwargs):
        """AdversaryCost2's channels, G conditioned on the batch's labels."""
        g, d = model.generator, model.discriminator
        _x, c = model.split(data)
        false_negatives = at.cast((d.fprop(data) < 0.5).mean(), "float32")
        samples = g.sample_for(c)
        return self._sample_channels(model, data, false_negatives, samples,
                                     lambda S: at.concatenate([S, c], axis=1))


def generator_mask_inputs(model, cost):
    """Symbolic masks for G's active layer inputs (None elsewhere), and their indices."""
    plan = cost.generator_plan(model.generator)
    layers = model.generator.mlp.layers
    active = [i for i, (p, _) in enumerate(plan) if p is not None]
    return ([make_theano_batch(layer.get_input_space(), f"mask_gen_{layer.layer_name}")
             if i in active else None for i, layer in enumerate(layers)], active)


def _compile_evaluate(model, cost, masked):
    X = make_theano_batch(model.get_input_space(), "X")
    z = at.matrix("z")
    inputs = [X, z]
    masks, d_active, g_active = NO_DROPOUT, [], []
    if masked:
        masks, d_active = mask_inputs(model.discriminator, cost)
        masks["gen"], g_active = generator_mask_inputs(model, cost)
        inputs += [masks[key][i] for key in ("data", "samp") for i in d_active]
        inputs += [masks["gen"][i] for i in g_active]
    parts = cost.build_objectives(model, X, noise=z, dropout_masks=masks)
    grads, _updates = cost.gradients_from_objectives(model, parts)
    named = model.named_params()          # [(name, shared variable)] in get_params() order
    outputs = [parts["d_obj"], parts["g_obj"], parts["S"], parts["y_hat1"], parts["y_hat0"]]
    outputs += [grads[param] for _, param in named]
    function = aesara.function(inputs, outputs, name="conditional_evaluate_step",
                               on_unused_input="ignore")
    return function, [name for name, _ in named], d_active, g_active


def evaluate_step(model, cost, X, z, masks=None):
    """adversarial.evaluate_step for the conditional model; masks may also hold "gen": one 0/1
    mask per G layer input (entries of layers without dropout are ignored)."""
    key = ("conditional", id(model), masks is not None)
    if key not in cost._evaluate_functions:
        cost._evaluate_functions[key] = _compile_evaluate(model, cost, masks is not None)
    function, names, d_active, g_active = cost._evaluate_functions[key]
    floatx = aesara.config.floatX
    args = [np.asarray(X, dtype=floatx), np.asarray(z, dtype=floatx)]
    if masks is not None:
        args += mask_arguments(masks, d_active, floatx)
        args += [np.asarray(masks["gen"][i], dtype=floatx) for i in g_active]
    values = function(*args)
    d_obj, g_obj, S, D_data, D_samp = values[:5]
    return {"d_obj": float(d_obj), "g_obj": float(g_obj), "S": np.asarray(S),
            "D_data": np.asarray(D_data), "D_samp": np.asarray(D_samp),
            "grads": OrderedDict(zip(names, (np.asarray(v) for v in values[5:])))}

"""The conditional adversarial net p(x | c) (Goodfellow et al. 2014, section 7; Mirza & Osindero
2014) in PyTorch: the label c is an input of both G and D.

Data layout: a training row is [pixels | one-hot label] (gan2014/datasets/labels_as_features.py),
a batch of D's input space CompositeSpace([pixels, classes]). G's input space is
CompositeSpace([noise, classes]): G(z, c) reads the row [z | c]. The model, the cost and the
training loop are otherwise the unconditional ones (adversarial.py), with these choices:

* the fake half of D's batch is [G(z, c) | c] with c the labels of the real half, row for row, so
  both halves carry the same label distribution (the data's);
* G may use dropout, per layer (`generator_input_include_probs` / `generator_input_scales`, the
  options AdversaryCost2 has for D), since the conditional experiment applies dropout in G;
* monitoring conditions G on the monitored batch's labels (`gen_ll`: a balanced set of labels).

legacy_aesara/conditional_gan.py is the same model in Aesara;
parity_tests/test_conditional_parity.py checks that they agree.
"""
from collections import OrderedDict

import numpy as np
import torch
from torch import nn

from gan2014 import generator_noise
from gan2014.config.checks import check_dropout_options, check_parzen_monitor
from gan2014.composite_space import check_two_parts, split_columns
from port_torch.adversarial import (AdversaryCost2, AdversaryPair, _only_dropped,
                                    draw_noise, parzen_log_likelihood)
from port_torch.random_streams import draw_masks


def balanced_labels(n, num_classes, device=None, dtype=torch.float32):
    """n one-hot rows cycling through the classes 0, 1, ..., num_classes - 1, 0, ..."""
    eye = torch.eye(num_classes, device=device, dtype=dtype)
    return eye[torch.arange(n, device=device) % num_classes]


class ConditionalGenerator(nn.Module):
    """ConditionalGenerator(mlp, noise, monitor_ll, ll_n_samples, ll_sigma): G(z, c) = mlp([z|c]).

    noise: 'uniform' (U(-sqrt 3, sqrt 3), the Generator's), 'gaussian', 'spherical', or
    'unit_uniform' (U(0, 1), "uniform within the unit hypercube").
    """

    def __init__(self, mlp, noise="unit_uniform", monitor_ll=False, ll_n_samples=100,
                 ll_sigma=0.2):
        super().__init__()
        self.num_classes = check_two_parts("ConditionalGenerator", mlp.input_space)
        self.mlp = mlp
        self.noise = generator_noise.check_noise_kind("ConditionalGenerator", noise,
                                                      generator_noise.CONDITIONAL_NOISE_KINDS)
        self.monitor_ll, self.ll_n_samples, self.ll_sigma = check_parzen_monitor(
            "ConditionalGenerator", monitor_ll, ll_n_samples, ll_sigma)

    @property
    def noise_dim(self):
        return self.mlp.input_space.components[0].get_total_dimension()

    def get_noise(self, num_samples, generator):
        return draw_noise(self.noise, (num_samples, self.noise_dim), generator)

    def forward(self, z, labels):
        return self.mlp(torch.cat([z, labels.to(z.dtype)], dim=1))

    @torch.no_grad()
    def sample(self, labels, generator, dropout=None, noise=None):
        """One sample per one-hot row of `labels`, noise from `generator`.

        dropout: None for the deterministic G (the plain forward pass: each mask x scale replaced
        by its expectation 1, as the 2014 Generator.sample by default), or G's per-layer
        (include_prob, scale) pairs: every row then gets its own masks, drawn from `generator`
        after the noise, as in training.
        noise: a given noise row (1, noise_dim) for every row, instead of fresh draws.
        """
        dtype = self.mlp.layers[-1].W.dtype
        if noise is None:
            z = self.get_noise(labels.shape[0], generator).to(dtype)
        else:
            z = noise.to(dtype).expand(labels.shape[0], self.noise_dim)
        if dropout is None:
            return self(z, labels)
        masks = draw_masks(dropout, self.mlp.input_widths(), labels.shape[0], generator)
        rows = torch.cat([z, labels.to(z.dtype)], dim=1)
        return self.mlp.layers[-1].activate(
            self.mlp.logits(rows, [None if m is None else m.to(z.dtype) for m in masks],
                            scales=[s for _, s in dropout]))


class ConditionalAdversaryPair(AdversaryPair):
    """AdversaryPair with a ConditionalGenerator and a discriminator on [x | c]."""

    def __init__(self, generator, discriminator, **kwargs):
        if not isinstance(generator, ConditionalGenerator):
            raise TypeError("ConditionalAdversaryPair: the generator must be a "
                            f"ConditionalGenerator, got {type(generator).__name__}")
        classes = check_two_parts("ConditionalAdversaryPair discriminator",
                                  discriminator.input_space)
        if classes != generator.num_classes:
            raise ValueError(f"ConditionalAdversaryPair: D reads {classes} label columns but G "
                             f"{generator.num_classes}")
        super().__init__(generator, discriminator, **kwargs)

    @property
    def device(self):
        # AdversaryPair reads D's first W, which a CompositeLayer keeps in its sub-layers.
        return self.discriminator.layers[-1].W.device

    @property
    def dtype(self):
        return self.discriminator.layers[-1].W.dtype

    def split(self, X):
        """(pixels, one-hot labels) of a batch of D's input space."""
        return split_columns(self.discriminator.input_space, X)

    @torch.no_grad()
    def monitoring_channels(self, X, generator):
        """The unconditional channels (same names), with G conditioned on the batch's labels."""
        G, D = self.generator, self.discriminator
        x, c = self.split(X)
        channels = OrderedDict()
        if self.monitor_generator:
            z = G.get_noise(X.shape[0], generator).to(X.dtype)
            for key, value in G.mlp.monitoring_channels(torch.cat([z, c], dim=1)).items():
                channels[f"gen_{key}"] = value
            if G.monitor_ll:
                labels = balanced_labels(G.ll_n_samples, G.num_classes, X.device, X.dtype)
                ll = parzen_log_likelihood(x, G.sample(labels, generator), G.ll_sigma).mean()
                channels["gen_ll"], channels["gen_nll"] = ll, -ll
        if self.monitor_discriminator:
            fake = torch.cat([G.sample(c, generator), c], dim=1)
            for key, value in D.monitoring_channels(fake).items():
                channels[f"dis_on_data_{key}"] = value   # the 2014 name swap, kept
            for key, value in D.monitoring_channels(X).items():
                channels[f"dis_on_samp_{key}"] = value
        return channels


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
        if self.no_drop_in_d_for_g:
            raise NotImplementedError("ConditionalAdversaryCost: no_drop_in_d_for_g")
        self.g_dropout.update(input_include_probs=generator_input_include_probs,
                              input_scales=generator_input_scales)

    def get_samples_and_objectives(self, model, X, z, d_masks, g_masks=None, streams=None):
        """S = G(z, c) on the real batch's labels c; D on [X; S|c] in one pass; d_obj, g_obj.

        Returns (S, d_obj, g_obj, logits_data, logits_samp), as AdversaryCost2's.
        g_masks: one mask per G layer input (None: no dropout in G).
        """
        G, D = model.generator, model.discriminator
        B = D.batch_size_of(X)
        _, c = model.split(X)
        g_settings = G.mlp.dropout_settings(**self.g_dropout)
        S = G.mlp.layers[-1].activate(G.mlp.logits(torch.cat([z.to(X.dtype), c], dim=1),
                                                   _only_dropped(g_masks, g_settings),
                                                   scales=[s for _, s in g_settings]))
        d_settings = D.dropout_settings(**self.d_dropout)
        logits = D.logits(torch.cat([X, torch.cat([S, c], dim=1)], dim=0),
                          _only_dropped(d_masks, d_settings), scales=[s for _, s in d_settings])
        l_data, l_samp = logits[:B], logits[B:]
        d_obj, g_obj = self.objectives(D.layers[-1].cost, l_data, l_samp)
        return S, d_obj, g_obj, l_data, l_samp

    samples_and_objectives = get_samples_and_objectives   # the name the base class keeps too

    def objectives(self, cost, l_data, l_samp):
        """d_obj and g_obj from D's logits on each half (AdversaryCost2's formulas)."""
        d_obj = 0.5 * (cost(1.0, l_data) + cost(0.0, l_samp))
        g_obj = -cost(0.0, l_samp) if self.generator_objective == "minimax" else cost(1.0, l_samp)
        if self.blend_obj:
            g_obj = (self.zurich_coeff * g_obj - self.minimax_coeff * d_obj) / \
                (self.zurich_coeff + self.minimax_coeff)
        return d_obj, g_obj

    def monitoring_channels(self, model, X, generator):
        """AdversaryCost2's channels, G conditioned on the batch's labels."""
        G, D = model.generator, model.discriminator
        _, c = model.split(X)
        with torch.no_grad():
            false_negatives = (D(X) < 0.5).float().mean()
            samples = G.sample(c, generator)
        return self._sample_channels(model, X, generator, false_negatives, samples,
                                     lambda S: D.logits(torch.cat([S, c], dim=1)))


def as_tensor_list(masks, model):
    if masks is None:
        return None
    return [None if m is None else torch.as_tensor(np.asarray(m), device=model.device,
                                                   dtype=model.dtype) for m in masks]


@torch.no_grad()
def evaluate_step(model, cost, X, z, masks=None):
    """adversarial.evaluate_step for the conditional model; masks may also hold "gen": one 0/1
    mask per G layer input (None where that layer has no dropout)."""
    X = torch.as_tensor(np.asarray(X), device=model.device, dtype=model.dtype)
    z = torch.as_tensor(np.asarray(z), device=model.device, dtype=model.dtype)
    d_masks = as_tensor_list(cost.stack_masks(
        None if masks is None else {k: masks[k] for k in ("data", "samp")}), model)
    g_masks = as_tensor_list(None if masks is None else masks.get("gen"), model)
    grads, S, d_obj, g_obj, l_data, l_samp = cost.gradients(model, X, z, d_masks, g_masks)
    return {"d_obj": float(d_obj), "g_obj": float(g_obj), "S": S.cpu().numpy(),
            "D_data": torch.sigmoid(l_data).cpu().numpy(),
            "D_samp": torch.sigmoid(l_samp).cpu().numpy(),
            "grads": OrderedDict((name, g.cpu().numpy()) for name, g in grads.items())}

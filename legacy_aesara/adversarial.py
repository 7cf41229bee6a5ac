"""The adversarial pair, its generator and its cost as Aesara graphs (mirrors
adversarial/__init__.py).

goodfeli/adversarial (HEAD 1720041) defines `AdversaryPair`, `Generator` and `AdversaryCost2` on
top of Pylearn2; every config of the paper trains them with Pylearn2's SGD. What the original does,
item by item, is written down in docs/pylearn2_semantics.md#the-adversarial-package; this module
follows it symbol for symbol.

Additions that the original did not have, all for the fidelity tests and the shared Train loop:
* noise and dropout masks can be fed from outside (`noise=`, `dropout_masks=`), see
  `AdversaryCost2.get_samples_and_objectives`;
* `AdversaryPair.param_names / get_param_values / set_param_values / enforce_constraints`, the
  model protocol of docs/ARCHITECTURE.md;
* `evaluate_step`, the step-level evaluation of docs/ARCHITECTURE.md.
"""
import itertools
import warnings
from collections import OrderedDict

import aesara
import aesara.tensor as at
import numpy as np

from gan2014 import generator_noise
from gan2014.config.checks import (check_dropout_options, check_flag, check_number,
                                   check_parzen_monitor)
from gan2014.generator_objectives import check_generator_objective
from gan2014.seeds import GENERATOR_NOISE_SEED, NOISE_BOTH_SEED
from legacy_aesara.models.mlp import shared_floatx
from legacy_aesara.random_streams import mrg_normal, new_mrg_stream, quiet_mrg
from legacy_aesara.space import Conv2DSpace, VectorSpace, batch_size, format_as, make_theano_batch

# The seed of the generator's noise stream (gan2014/seeds.py: 2014 * 5 + 27 = 10097).
GENERATOR_SEED = GENERATOR_NOISE_SEED

# `dropout_masks` values of AdversaryCost2.get_samples_and_objectives.
DRAW = "draw"        # masks drawn from fresh MRG streams, as in training (the default)
NO_DROPOUT = None    # include probability 1 and scale 1 everywhere (plain forward passes)


# ------------------------------------------------------------------------------------------ model
class AdversaryPair:
    """adversarial/__init__.py :: AdversaryPair -- a generator and a discriminator trained
    together."""

    def __init__(self, generator, discriminator, inferer=None,
                 inference_monitoring_batch_size=128, monitor_generator=True,
                 monitor_discriminator=True, monitor_inference=True, shrink_d=0.):
        if inferer is not None:
            raise NotImplementedError("AdversaryPair: an inferer is not supported by the "
                                      "legacy_aesara backend (no 2014 paper config uses one)")
        self.generator = generator
        self.discriminator = discriminator
        self.inferer = inferer
        self.inference_monitoring_batch_size = inference_monitoring_batch_size
        self.monitor_generator = monitor_generator
        self.monitor_discriminator = monitor_discriminator
        self.monitor_inference = monitor_inference
        self.shrink_d = shrink_d

    def get_params(self):
        """Generator parameters, then discriminator parameters, each in layer order (W, b)."""
        return self.generator.get_params() + self.discriminator.get_params()

    def get_input_space(self):
        return self.discriminator.get_input_space()

    def get_lr_scalers(self):
        rval = self.generator.get_lr_scalers()
        rval.update(self.discriminator.get_lr_scalers())
        return rval

    def get_default_cost(self):
        raise NotImplementedError("AdversaryPair has no default cost; give AdversaryCost2")

    def modify_updates(self, updates):
        """G's constraints, then D's; then the optional `shrink_d` factor on D's new values."""
        self.generator.modify_updates(updates)
        self.discriminator.modify_updates(updates)
        if self.shrink_d != 0.:
            for param in self.discriminator.get_params():
                if param in updates:
                    updates[param] = self.shrink_d * updates[param]

    # The model protocol of docs/ARCHITECTURE.md ------------------------------------------------
    def named_params(self):
        """[(`G/h0_W`, shared variable), ...] in get_params() order: the backend-independent
        names, as port_torch's AdversaryPair.named_params pairs them with its tensors."""
        return [(prefix + param.name, param)
                for prefix, net in (("G/", self.generator), ("D/", self.discriminator))
                for param in net.get_params()]

    def param_names(self):
        return [name for name, _param in self.named_params()]

    def get_param_values(self):
        return OrderedDict((name, np.array(param.get_value(), dtype=aesara.config.floatX))
                           for name, param in self.named_params())

    def set_param_values(self, values):
        params = dict(self.named_params())
        unknown = [name for name in values if name not in params]
        if unknown:
            raise ValueError(f"unknown parameter(s): {', '.join(unknown)}")
        for name, value in values.items():
            param = params[name]
            value = np.asarray(value)
            expected = param.get_value(borrow=True).shape
            if value.shape != expected:
                raise ValueError(f"parameter {name}: shape {value.shape} differs from the "
                                 f"model's {expected}")
            param.set_value(value.astype(param.dtype))

    def enforce_constraints(self):
        """pylearn2/models/model.py :: Model.enforce_constraints -- apply the max-norm projections
        to the current values once (Train.setup did this before epoch 0)."""
        params = self.get_params()
        updates = OrderedDict((param, param) for param in params)
        self.modify_updates(updates)
        changed = OrderedDict((param, value) for param, value in updates.items()
                              if value is not param)
        if changed:
            aesara.function([], [], updates=changed, name="enforce_constraints")()

    # Monitoring ---------------------------------------------------------------------------------
    def get_monitoring_channels(self, data):
        """gen_*, dis_on_data_*, dis_on_samp_* (docs/pylearn2_semantics.md#monitoring-channels).

        The original swaps two names and this is kept, so that logs compare line by line:
        `dis_on_data_*` is computed on 100 generator samples and `dis_on_samp_*` on the data.
        """
        rval = OrderedDict()
        g_ch = self.generator.get_monitoring_channels(data)
        d_ch = self.discriminator.get_monitoring_channels((data, None))
        samples = self.generator.sample(100)
        d_samp_ch = self.discriminator.get_monitoring_channels((samples, None))
        if self.monitor_generator:
            for key, value in g_ch.items():
                rval["gen_" + key] = value
        if self.monitor_discriminator:
            for key in d_ch:
                rval["dis_on_data_" + key] = d_samp_ch[key]
            for key in d_ch:
                rval["dis_on_samp_" + key] = d_ch[key]
        return rval


def theano_parzen(data, mu, sigma):
    """adversarial/__init__.py :: theano_parzen -- log density of each row of `data` under an
    equal-weight isotropic Gaussian mixture centred on the rows of `mu` (credited to Y. Dauphin).

    Written as the original: the full (rows, centres, dims) difference tensor.
    """
    a = (data.dimshuffle(0, "x", 1) - mu.dimshuffle("x", 0, 1)) / sigma
    E = log_mean_exp(-0.5 * (a ** 2).sum(2))
    Z = mu.shape[1] * at.log(sigma * np.sqrt(np.pi * 2))
    return E - Z


def log_mean_exp(a):
    """max + log(mean(exp(a - max))) over axis 1."""
    max_ = a.max(1)
    return max_ + at.log(at.exp(a - max_.dimshuffle(0, "x")).mean(1))


def add_layers(mlp, pretrained, start_layer=0, *, registry):
    """adversarial/__init__.py :: add_layers -- append a pretrained generator's layers to `mlp`.

    The layers `start_layer:` of the generator MLP of the checkpoint `pretrained` names (the
    resolution rule of gan2014/pretrained.py: `"./pretrain.pkl"` finds the stage-1 run folder) are
    rebuilt from the checkpoint's YAML, given its trained weights, and appended after `mlp`'s own
    layers, keeping their constraint settings (max_col_norm). As in 2014 `set_mlp` is not called and
    `mlp.layer_names` is not updated. Their parameters are renamed `pretrained_<layer>_W/_b`, the
    layer names stay (so the `gen_<layer>_*` channels of equally named new layers are overwritten,
    as in 2014). Returns `mlp`. `registry` rebuilds the donor: legacy_aesara.registry passes one
    (this module never imports the registry, which imports this module).
    """
    from gan2014 import pretrained as pretrained_model

    source = pretrained_model.load(pretrained, registry, "legacy_aesara")
    donor = source.build_generator_mlp()
    for param in donor.get_params():
        value = source.value(param.name, param.get_value(borrow=True).shape)
        param.set_value(np.asarray(value, dtype=param.dtype))
    start_layer = pretrained_model.check_start_layer(start_layer, len(donor.layers), source.path)
    needed = donor.layers[start_layer].get_input_space()
    given = mlp.layers[-1].get_output_space()
    if needed != given:
        raise pretrained_model.space_mismatch(source.path, start_layer, needed, given)
    appended = donor.layers[start_layer:]
    for layer in appended:
        for param in layer.get_params():
            param.name = pretrained_model.PREFIX + param.name
    mlp.layers.extend(appended)
    print(f"add_layers: {len(appended)} pretrained layer(s) "
          f"{[layer.layer_name for layer in appended]} from {source.describe()}", flush=True)
    return mlp


class Generator:
    """adversarial/__init__.py :: Generator -- an MLP applied to noise from its own MRG stream."""

    NOISE_KINDS = generator_noise.NOISE_KINDS   # the conditional generator widens it

    def __init__(self, mlp, noise="gaussian", monitor_ll=False, ll_n_samples=100, ll_sigma=0.2):
        self.mlp = mlp
        self.noise = generator_noise.check_noise_kind(type(self).__name__, noise, self.NOISE_KINDS)
        self.monitor_ll, self.ll_n_samples, self.ll_sigma = check_parzen_monitor(
            type(self).__name__, monitor_ll, ll_n_samples, ll_sigma)
        # One stream for all noise; each get_noise call takes the next block of it.
        self.theano_rng = new_mrg_stream(GENERATOR_SEED)

    def get_input_space(self):
        return self.mlp.get_input_space()

    def get_output_space(self):
        return self.mlp.get_output_space()

    def get_params(self):
        return self.mlp.get_params()

    def get_lr_scalers(self):
        return self.mlp.get_lr_scalers()

    def modify_updates(self, updates):
        self.mlp.modify_updates(updates)

    def noise_dim(self):
        return self.mlp.get_input_space().get_total_dimension()

    def get_noise(self, size):
        """float32 noise: U(-sqrt 3, sqrt 3) ('uniform', unit variance), N(0, 1) ('gaussian'), or
        Gaussian rows divided by max(1e-7, their norm) ('spherical')."""
        if isinstance(size, int):
            size = (size, self.noise_dim())
        with quiet_mrg():
            if self.noise == "uniform":
                return self.theano_rng.uniform(low=-np.sqrt(3), high=np.sqrt(3), size=size,
                                               dtype="float32")
            if self.noise == "gaussian":
                return self.theano_rng.normal(size=size, dtype="float32")
            if self.noise == "spherical":
                noise = self.theano_rng.normal(size=size, dtype="float32")
                norms = at.maximum(1e-7, at.sqrt(at.square(noise).sum(axis=1)))
                return noise / norms.dimshuffle(0, "x")
        raise NotImplementedError(self.noise)

    def sample_and_noise(self, num_samples, default_input_include_prob=1.,
                         default_input_scale=1., all_g_layers=False, noise=None):
        """(S, z, other_layers): one noise draw of `num_samples` rows through the MLP.

        With the defaults (include prob 1, scale 1) the dropout pass is a plain forward pass, but,
        as in the original, it still takes one seed from the MLP's RandomState. `noise` (not in the
        original) feeds z instead of drawing it.
        """
        if noise is None:
            noise = self.get_noise((num_samples, self.noise_dim()))
        states = self.mlp.dropout_fprop(noise,
                                        default_input_include_prob=default_input_include_prob,
                                        default_input_scale=default_input_scale, return_all=True)
        other_layers = states[:-1] if all_g_layers else None
        return states[-1], noise, other_layers

    def sample(self, num_samples, default_input_include_prob=1., default_input_scale=1.):
        sample, _, _ = self.sample_and_noise(num_samples, default_input_include_prob,
                                             default_input_scale)
        return sample

    def ll(self, data, n_samples, sigma):
        """Parzen log-likelihood of each data row under `n_samples` fresh samples; image batches
        (a Conv2DSpace output) are compared as ('b', 0, 1, 'c')-flattened rows, as in 2014."""
        samples = self.sample(n_samples)
        space = self.mlp.get_output_space()
        if isinstance(space, Conv2DSpace):
            flat = VectorSpace(space.get_total_dimension())
            samples, data = format_as(samples, space, flat), format_as(data, space, flat)
        return theano_parzen(data, samples, sigma)

    def get_monitoring_channels(self, data):
        """The MLP's channels on fresh noise of one batch; `ll`/`nll` when monitor_ll is set.

        `ll` is the in-training estimate of the original: 100 fresh samples per monitoring batch
        and sigma 0.2 -- very noisy, and not the paper's Parzen number.

        m is data.shape[0], as in 2014 -- for a c01b batch (CIFAR-10 conv) that is the number of
        channels, 3, not the batch size: the original monitored G on 3 noise vectors there.
        """
        m = 100 if data is None else data.shape[0]
        noise = self.get_noise((m, self.noise_dim()))
        rval = OrderedDict()
        try:
            rval.update(self.mlp.get_monitoring_channels((noise, None)))
        except Exception:  # the original skipped these channels on any failure, with a warning
            warnings.warn("something went wrong with generator.mlp's monitoring channels")
        if self.monitor_ll:
            rval["ll"] = at.cast(self.ll(data, self.ll_n_samples, self.ll_sigma),
                                 aesara.config.floatX).mean()
            rval["nll"] = -rval["ll"]
        return rval


# ------------------------------------------------------------------------------------------- cost
class AdversaryCost2:
    """adversarial/__init__.py :: AdversaryCost2 -- the cost every paper config trains with.

    d_obj = 0.5 * (BCE(D(X), 1) + BCE(D(G(z)), 0)), g_obj = BCE(D(G(z)), 1) on the *same* D(G(z))
    graph (same samples, same dropout masks); D gets dd_obj/dtheta_D and G gets dg_obj/dtheta_G,
    both at the same parameters (docs/pylearn2_semantics.md#the-cost-and-its-gradients).
    """

    # Supplies its own labels.
    supervised = False

    def __init__(self, scale_grads=1, target_scale=.1,
                 discriminator_default_input_include_prob=1.,
                 discriminator_input_include_probs=None,
                 discriminator_default_input_scale=1.,
                 discriminator_input_scales=None,
                 generator_default_input_include_prob=1.,
                 generator_default_input_scale=1.,
                 inference_default_input_include_prob=None,
                 inference_input_include_probs=None,
                 inference_default_input_scale=1.,
                 inference_input_scales=None,
                 init_now_train_generator=True,
                 ever_train_discriminator=True,
                 ever_train_generator=True,
                 ever_train_inference=True,
                 no_drop_in_d_for_g=False,
                 alternate_g=False,
                 infer_layer=None,
                 noise_both=0.,
                 blend_obj=False,
                 minimax_coeff=1.,
                 zurich_coeff=1.,
                 generator_objective="nonsaturating"):
        if infer_layer is not None:
            raise NotImplementedError("AdversaryCost2: infer_layer needs an inferer, which the "
                                      "legacy_aesara backend does not support")
        check_dropout_options(
            type(self).__name__,
            discriminator_default_input_include_prob=discriminator_default_input_include_prob,
            discriminator_input_include_probs=discriminator_input_include_probs,
            discriminator_default_input_scale=discriminator_default_input_scale,
            discriminator_input_scales=discriminator_input_scales,
            generator_default_input_include_prob=generator_default_input_include_prob,
            generator_default_input_scale=generator_default_input_scale,
            inference_default_input_include_prob=inference_default_input_include_prob,
            inference_input_include_probs=inference_input_include_probs,
            inference_default_input_scale=inference_default_input_scale,
            inference_input_scales=inference_input_scales)
        owner = type(self).__name__
        self.scale_grads = check_flag(owner, "scale_grads", scale_grads)
        self.target_scale = check_number(owner, "target_scale", target_scale)
        self.discriminator_default_input_include_prob = discriminator_default_input_include_prob
        self.discriminator_input_include_probs = discriminator_input_include_probs
        self.discriminator_default_input_scale = discriminator_default_input_scale
        self.discriminator_input_scales = discriminator_input_scales
        self.generator_default_input_include_prob = generator_default_input_include_prob
        self.generator_default_input_scale = generator_default_input_scale
        self.inference_default_input_include_prob = inference_default_input_include_prob
        self.inference_input_include_probs = inference_input_include_probs
        self.inference_default_input_scale = inference_default_input_scale
        self.inference_input_scales = inference_input_scales
        self.ever_train_discriminator = check_flag(owner, "ever_train_discriminator",
                                                   ever_train_discriminator)
        self.ever_train_generator = check_flag(owner, "ever_train_generator", ever_train_generator)
        self.ever_train_inference = check_flag(owner, "ever_train_inference", ever_train_inference)
        self.no_drop_in_d_for_g = check_flag(owner, "no_drop_in_d_for_g", no_drop_in_d_for_g)
        self.alternate_g = check_flag(owner, "alternate_g", alternate_g)
        self.infer_layer = infer_layer
        self.noise_both = noise_both
        self.blend_obj = check_flag(owner, "blend_obj", blend_obj)
        self.minimax_coeff = check_number(owner, "minimax_coeff", minimax_coeff)
        self.zurich_coeff = check_number(owner, "zurich_coeff", zurich_coeff)
        # NOT an option of the 2014 code (added here): see gan2014/generator_objectives.py.
        self.generator_objective = check_generator_objective(generator_objective, blend_obj)
        # float32 switches that let extensions turn training of either part off and on.
        self.now_train_generator = shared_floatx(init_now_train_generator, "now_train_generator")
        self.now_train_discriminator = shared_floatx(1., "now_train_discriminator")
        self.now_train_inference = shared_floatx(1., "now_train_inference")
        self._evaluate_functions = {}

    def get_data_specs(self, model):
        return (model.get_input_space(), "features")

    # The objectives ------------------------------------------------------------------------------
    def discriminator_plan(self, d):
        """(include_prob, scale) for each of D's layer inputs, from the cost's dropout options."""
        return d.dropout_settings(self.discriminator_default_input_include_prob,
                                  self.discriminator_input_include_probs,
                                  self.discriminator_default_input_scale,
                                  self.discriminator_input_scales)

    def _discriminate(self, d, X, S, dropout_masks):
        """(y_hat1, y_hat0) = D on the real batch and on the samples: two separate dropout passes,
        hence independent masks (each call seeds its own stream), as in the original.

        Stacking X and S into one 200-row batch was measured and rejected: dg_obj/dS then flows
        back through all 200 rows (half of them zeros), which costs more CPU time per step than
        the larger matrix products save.
        """
        if dropout_masks is NO_DROPOUT:
            return d.fprop(X), d.fprop(S)
        fed = {"data": None, "samp": None} if dropout_masks is DRAW else dropout_masks
        return tuple(d.dropout_fprop(part, self.discriminator_default_input_include_prob,
                                     self.discriminator_input_include_probs,
                                     self.discriminator_default_input_scale,
                                     self.discriminator_input_scales, masks=fed[key])
                     for key, part in (("data", X), ("samp", S)))

    def _generate(self, g, m, noise, dropout_masks):
        """S, z from the generator (one noise draw of m rows unless z is fed).

        With dropout fed or switched off (the tests), G -- which has no dropout in any config --
        runs a plain forward pass, so building such a graph draws no seed from G's RandomState.
        """
        if dropout_masks is DRAW:
            S, z, _ = g.sample_and_noise(m, self.generator_default_input_include_prob,
                                         self.generator_default_input_scale, noise=noise)
            return S, z
        if self.generator_default_input_include_prob not in (None, 1., 1):
            raise NotImplementedError("feeding noise and masks is not supported with dropout "
                                      "inside the generator")
        return g.mlp.fprop(noise), noise

    def build_objectives(self, model, data, noise=None, dropout_masks=DRAW):
        """Every quantity of one step: dict with S, z, y_hat1 (D on data), y_hat0 (D on S), d_obj,
        g_obj, i_obj.

        noise: symbolic z, or None to draw it from the generator's stream.
        dropout_masks: DRAW (training), NO_DROPOUT (None: no dropout anywhere), or
        {"data": [mask per D layer input], "samp": [...]} of symbolic 0/1 masks.
        """
        g, d = model.generator, model.discriminator
        X = data
        m = batch_size(model.get_input_space(), X)
        y1 = at.alloc(1, m, 1)
        y0 = at.alloc(0, m, 1)
        if noise is None and dropout_masks is not DRAW:
            raise ValueError("feeding dropout masks (or disabling dropout) needs the noise fed too")
        S, z = self._generate(g, m, noise, dropout_masks)
        if self.noise_both != 0.:
            # Python 2's 2014 / 6 + 2 = 337 (integer division).
            rng = new_mrg_stream(NOISE_BOTH_SEED)
            S = S + mrg_normal(rng, S.shape, S.dtype) * self.noise_both
            X = X + mrg_normal(rng, X.shape, S.dtype) * self.noise_both
        y_hat1, y_hat0 = self._discriminate(d, X, S, dropout_masks)
        d_obj = 0.5 * (d.layers[-1].cost(y1, y_hat1) + d.layers[-1].cost(y0, y_hat0))
        if self.no_drop_in_d_for_g:
            # Despite the name: MLP defaults, i.e. include prob .5 and scale 2 on every layer.
            y_hat0_for_g = d.fprop(S) if dropout_masks is NO_DROPOUT else d.dropout_fprop(S)
            g_obj = d.layers[-1].cost(y1, y_hat0_for_g)
        else:
            g_obj = d.layers[-1].cost(y1, y_hat0)
        if self.generator_objective == "minimax":
            # Not in the 2014 code: mean log(1 - D(G(z))) = -mean softplus(z0), same y_hat0 graph.
            g_obj = -d.layers[-1].cost(y0, y_hat0_for_g if self.no_drop_in_d_for_g else y_hat0)
        if self.blend_obj:
            g_obj = ((self.zurich_coeff * g_obj - self.minimax_coeff * d_obj)
                     / (self.zurich_coeff + self.minimax_coeff))
        return {"S": S, "z": z, "y_hat1": y_hat1, "y_hat0": y_hat0, "d_obj": d_obj,
                "g_obj": g_obj, "i_obj": 0}

    def get_samples_and_objectives(self, model, data, noise=None, dropout_masks=DRAW):
        parts = self.build_objectives(model, data, noise, dropout_masks)
        return parts["S"], parts["d_obj"], parts["g_obj"], parts["i_obj"]

    def expr(self, model, data, **kwargs):
        """The monitored `objective`: the sum of the objectives that are ever trained."""
        _S, d_obj, g_obj, i_obj = self.get_samples_and_objectives(model, data)
        terms = []
        if self.ever_train_discriminator:
            terms.append(d_obj)
        if self.ever_train_generator:
            terms.append(g_obj)
        if self.ever_train_inference:
            terms.append(i_obj)
        return sum(terms)

    # Gradients -------------------------------------------------------------------------------
    def get_gradients(self, model, data, noise=None, dropout_masks=DRAW, **kwargs):
        """(grads, updates): dd_obj/dtheta_D for D's parameters, dg_obj/dtheta_G for G's.

        Each network gets only its own objective's gradient; both come from one graph (same
        samples, same masks). scale_grads rescales G's gradients *up* so that ||dg_obj/dS|| is at
        least target_scale. alternate_g toggles the G multiplier every step.
        """
        return self.gradients_from_objectives(
            model, self.build_objectives(model, data, noise, dropout_masks))

    def gradients_from_objectives(self, model, parts):
        g, d = model.generator, model.discriminator
        g_params, d_params = g.get_params(), d.get_params()
        if set(g_params) & set(d_params):
            raise ValueError("the generator and the discriminator share parameters")
        d_grads = at.grad(parts["d_obj"], d_params)
        g_grads = at.grad(parts["g_obj"], g_params)
        if self.scale_grads:
            S_grad = at.grad(parts["g_obj"], parts["S"])
            scale = at.maximum(1., self.target_scale / at.sqrt(at.square(S_grad).sum()))
            g_grads = [g_grad * scale for g_grad in g_grads]
        rval = OrderedDict()
        zeros = itertools.repeat(at.constant(0., dtype="float32"))
        if self.ever_train_discriminator:
            rval.update(zip(d_params, [self.now_train_discriminator * dg for dg in d_grads]))
        else:
            rval.update(zip(d_params, zeros))
        if self.ever_train_generator:
            rval.update(zip(g_params, [self.now_train_generator * gg for gg in g_grads]))
        else:
            rval.update(zip(g_params, zeros))
        updates = OrderedDict()
        if self.alternate_g:
            # The original's comment says "two d steps for every g step"; G still moves by mu*v.
            updates[self.now_train_generator] = 1. - self.now_train_generator
        return rval, updates

    # Monitoring --------------------------------------------------------------------------------
    def get_monitoring_channels(self, model, data, **kwargs):
        """false_negatives, false_positives, sample_grad_norm, objective_d/g (with dropout),
        now_train_generator (docs/pylearn2_semantics.md#monitoring-channels).

        m = data.shape[0] as in 2014, also for a c01b batch, where it is the channel count (3): the
        CIFAR-10 conv run computed false_positives and sample_grad_norm on 3 samples.
        """
        g, d = model.generator, model.discriminator
        false_negatives = at.cast((d.fprop(data) < 0.5).mean(), "float32")
        samples = g.sample(data.shape[0])
        return self._sample_channels(model, data, false_negatives, samples, lambda S: S)

    def _sample_channels(self, model, data, false_negatives, samples, d_input):
        """The channels after D's error on the real batch: D's error on `samples` (d_input maps
        samples to D's input), the gradient norm at them, fresh objectives, the G switch."""
        d = model.discriminator
        rval = OrderedDict(false_negatives=false_negatives)
        fake = d_input(samples)
        y_hat = d.fprop(fake)
        rval["false_positives"] = at.cast((y_hat > 0.5).mean(), "float32")
        # D's cost with its own output as the target; the gradient flows through both arguments.
        sample_grad = at.grad(-d.cost_from_X((fake, y_hat)), samples)
        rval["sample_grad_norm"] = at.sqrt(at.square(sample_grad).sum())
        _S, d_obj, g_obj, _i_obj = self.get_samples_and_objectives(model, data)
        if model.monitor_discriminator:
            rval["objective_d"] = d_obj
        if model.monitor_generator:
            rval["objective_g"] = g_obj
        rval["now_train_generator"] = self.now_train_generator
        return rval


# ------------------------------------------------------------------------------ step evaluation
def mask_inputs(d, cost):
    """Symbolic 0/1 mask inputs, one per D layer input where the cost's dropout is active (None
    elsewhere), for the real ("data") and generated ("samp") halves; and the active layer
    indices."""
    plan = cost.discriminator_plan(d)
    active = [index for index, (include_prob, _scale) in enumerate(plan)
              if include_prob is not None]
    masks = {key: [make_theano_batch(layer.get_input_space(), f"mask_{key}_{layer.layer_name}")
                   if index in active else None
                   for index, layer in enumerate(d.layers)]
             for key in ("data", "samp")}
    return masks, active


def mask_arguments(masks, active, dtype):
    """The fed mask arrays in the order of the compiled functions' inputs (data, then samp)."""
    return [np.asarray(masks[key][index], dtype=dtype)
            for key in ("data", "samp") for index in active]


def _compile_evaluate(model, cost, masked):
    X = make_theano_batch(model.get_input_space(), "X")
    z = at.matrix("z")
    masks, active = mask_inputs(model.discriminator, cost) if masked else (NO_DROPOUT, [])
    parts = cost.build_objectives(model, X, noise=z, dropout_masks=masks)
    grads, _updates = cost.gradients_from_objectives(model, parts)
    names = OrderedDict(model.named_params())
    outputs = [parts["d_obj"], parts["g_obj"], parts["S"], parts["y_hat1"], parts["y_hat0"]]
    outputs += [grads[param] for param in names.values()]
    inputs = [X, z]
    if masked:
        inputs += [masks[key][index] for key in ("data", "samp") for index in active]
    function = aesara.function(inputs, outputs, name="evaluate_step", on_unused_input="ignore")
    return function, list(names.keys()), active


def evaluate_step(model, cost, X, z, masks=None):
    """One step's quantities at the current parameters, with noise `z` and dropout `masks` given.

    X is a batch in the model's input space (a matrix, or c01b images for a conv D); masks: None
    (no dropout: include probability 1, scale 1) or {"data": [m_h0, m_h1, m_y], "samp": [...]} of
    0/1 arrays per D layer input, each shaped as that input (docs/ARCHITECTURE.md); the scales
    come from the cost. Returns d_obj, g_obj (floats), S, D_data, D_samp (arrays) and grads
    (OrderedDict name -> array: dd_obj/dtheta_D for D, dg_obj/dtheta_G for G). Compiled once per
    model and mode.
    """
    key = (id(model), masks is not None)
    if key not in cost._evaluate_functions:
        cost._evaluate_functions[key] = _compile_evaluate(model, cost, masks is not None)
    function, names, active = cost._evaluate_functions[key]
    floatx = aesara.config.floatX
    args = [np.asarray(X, dtype=floatx), np.asarray(z, dtype="float32")]
    if masks is not None:
        args += mask_arguments(masks, active, floatx)
    values = function(*args)
    d_obj, g_obj, S, D_data, D_samp = values[:5]
    return {"d_obj": float(d_obj), "g_obj": float(g_obj), "S": np.asarray(S),
            "D_data": np.asarray(D_data), "D_samp": np.asarray(D_samp),
            "grads": OrderedDict(zip(names, (np.asarray(v) for v in values[5:])))}

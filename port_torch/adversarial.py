"""goodfeli/adversarial :: __init__.py (AdversaryPair, Generator, AdversaryCost2) in PyTorch.

This is the reference ("autograd") form of the experiment: each quantity is written as the 2014 code
wrote it and differentiated by torch.autograd. The fast training step
(training_algorithms/fused_step.py) computes the same numbers with a hand-written backward and is
tested against this file.

Randomness: Pylearn2 drew noise and dropout masks from Theano MRG streams. Here every draw goes
through a torch.Generator held by the model's `RandomStreams` (port_torch/random_streams.py, seeded
from the command line, never the global RNG), and noise and masks can be passed in from outside
instead (tests).
"""
import math
from collections import OrderedDict

import numpy as np
import torch
from torch import nn

from gan2014 import generator_noise
from gan2014.config.checks import (check_dropout_options, check_flag, check_number,
                                   check_parzen_monitor)
from gan2014.generator_objectives import check_generator_objective
from gan2014.seeds import GENERATOR_NOISE_SEED
from port_torch.random_streams import RandomStreams, draw_masks, draw_noise
from port_torch.space import Conv2DSpace, VectorSpace, format_as


# Generator.__init__ seeded its MRG stream with 2014 * 5 + 27 (gan2014.seeds); it is the run's
# default seed here.
GENERATOR_SEED = GENERATOR_NOISE_SEED
DEFAULT_SEED = GENERATOR_SEED   # the former name, for code written against it


def add_layers(mlp, pretrained, start_layer=0, *, registry):
    """adversarial :: add_layers -- append a pretrained generator's layers to `mlp`.

    The layers `start_layer:` of the generator MLP of the checkpoint `pretrained` names (the
    resolution rule of gan2014/pretrained.py: `"./pretrain.pkl"` finds the stage-1 run folder) are
    rebuilt from the checkpoint's YAML, given its trained weights, and appended after `mlp`'s own
    layers with their constraint settings (max_col_norm). Their parameters are named
    `pretrained_<layer>_W/_b` (`param_name_stem`); the layer names stay, as in 2014. Returns `mlp`.
    `registry` rebuilds the donor: port_torch.registry passes itself (this module never imports
    the registry, which imports this module).
    """
    from gan2014 import pretrained as pretrained_model

    source = pretrained_model.load(pretrained, registry, "port_torch")
    donor = source.build_generator_mlp()
    with torch.no_grad():
        for name, param in donor.named_pylearn2_params():
            param.copy_(torch.from_numpy(np.asarray(source.value(name, tuple(param.shape)))))
    start_layer = pretrained_model.check_start_layer(start_layer, len(donor.layers), source.path)
    needed, given = donor.layers[start_layer].input_space, mlp.output_space
    if needed != given:
        raise pretrained_model.space_mismatch(source.path, start_layer, needed, given)
    appended = list(donor.layers)[start_layer:]
    for layer in appended:
        stem = getattr(layer, "param_name_stem", None) or layer.layer_name
        layer.param_name_stem = pretrained_model.PREFIX + stem
    mlp.layers.extend(appended)
    mlp.output_dim = donor.output_dim
    print(f"add_layers: {len(appended)} pretrained layer(s) "
          f"{[layer.layer_name for layer in appended]} from {source.describe()}", flush=True)
    return mlp


class Generator(nn.Module):
    """adversarial :: Generator(mlp, noise, monitor_ll, ll_n_samples, ll_sigma)."""

    def __init__(self, mlp, noise="gaussian", monitor_ll=False, ll_n_samples=100, ll_sigma=0.2):
        super().__init__()
        self.mlp = mlp
        self.noise = generator_noise.check_noise_kind("Generator", noise,
                                                      generator_noise.NOISE_KINDS)
        self.monitor_ll, self.ll_n_samples, self.ll_sigma = check_parzen_monitor(
            "Generator", monitor_ll, ll_n_samples, ll_sigma)

    @property
    def noise_dim(self):
        return self.mlp.nvis

    def get_noise(self, num_samples, generator):
        return draw_noise(self.noise, (num_samples, self.noise_dim), generator)

    def forward(self, z):
        return self.mlp(z)

    @torch.no_grad()
    def sample(self, num_samples, generator):
        return self.mlp(self.get_noise(num_samples, generator))


class AdversaryPair(nn.Module):
    """adversarial :: AdversaryPair(generator, discriminator, ...): G's params, then D's."""

    def __init__(self, generator, discriminator, inferer=None, inference_monitoring_batch_size=128,
                 monitor_generator=True, monitor_discriminator=True, monitor_inference=True,
                 shrink_d=0.):
        super().__init__()
        if inferer is not None:
            raise NotImplementedError("AdversaryPair: `inferer` is not implemented in port_torch")
        if shrink_d != 0.:
            raise NotImplementedError("AdversaryPair: shrink_d != 0 is not implemented in "
                                      "port_torch")
        self.generator = generator
        self.discriminator = discriminator
        self.monitor_generator = bool(monitor_generator)
        self.monitor_discriminator = bool(monitor_discriminator)
        self.streams = RandomStreams()

    # ---------------------------------------------------------------- the backend protocol
    def named_params(self):
        """[(`G/h0_W`, Parameter), ...] in get_params() order: the 1:1 map to the Aesara names."""
        pairs = [(f"G/{name}", p) for name, p in self.generator.mlp.named_pylearn2_params()]
        pairs += [(f"D/{name}", p) for name, p in self.discriminator.named_pylearn2_params()]
        return pairs

    def param_names(self):
        return [name for name, _ in self.named_params()]

    def get_param_values(self):
        return OrderedDict((name, p.detach().cpu().numpy().copy())
                           for name, p in self.named_params())

    @torch.no_grad()
    def set_param_values(self, values):
        for name, p in self.named_params():
            value = np.asarray(values[name])
            if tuple(value.shape) != tuple(p.shape):
                raise ValueError(f"parameter {name}: shape {tuple(value.shape)} does not match the "
                                 f"model's {tuple(p.shape)}")
            p.copy_(torch.from_numpy(np.ascontiguousarray(value)))  # copy_ casts to p's dtype

    @torch.no_grad()
    def enforce_constraints(self):
        """Model.enforce_constraints: the max-norm projections applied to the current weights."""
        self.generator.mlp.constrain_()
        self.discriminator.constrain_()

    def to_device(self, device):
        self.to(device)
        self.streams.to(device)
        return self

    @property
    def device(self):
        return self.discriminator.layers[0].W.device

    @property
    def dtype(self):
        """float32 as in 2014; float64 after `.double()` (the float64 parity tests)."""
        return self.discriminator.layers[0].W.dtype

    # ------------------------------- monitoring (docs/pylearn2_semantics.md#monitoring-channels)
    @torch.no_grad()
    def monitoring_channels(self, X, generator):
        """AdversaryPair.get_monitoring_channels, with the 2014 name swap kept for log
        compatibility: `dis_on_data_*` is computed on generated samples and `dis_on_samp_*` on the
        data."""
        G, D = self.generator, self.discriminator
        channels = OrderedDict()
        if self.monitor_generator:
            # X.shape[0] as in 2014 (Generator.get_monitoring_channels): for c01b images (CIFAR-10
            # conv) that is the channel count, 3, so G is monitored on 3 noise vectors there.
            noise = G.get_noise(X.shape[0], generator)
            for key, value in G.mlp.monitoring_channels(noise).items():
                channels[f"gen_{key}"] = value
            if G.monitor_ll:
                samples = G.sample(G.ll_n_samples, generator)
                ll = parzen_log_likelihood(*flat_images(G.mlp.output_space, X, samples),
                                           G.ll_sigma).mean()
                channels["gen_ll"], channels["gen_nll"] = ll, -ll
        if self.monitor_discriminator:
            samples = G.sample(100, generator)
            for key, value in D.monitoring_channels(samples).items():
                channels[f"dis_on_data_{key}"] = value
            for key, value in D.monitoring_channels(X).items():
                channels[f"dis_on_samp_{key}"] = value
        return channels


def flat_images(space, *batches):
    """Generator.ll: image batches (a Conv2DSpace) become ('b', 0, 1, 'c')-flattened rows."""
    if not isinstance(space, Conv2DSpace):
        return batches
    flat = VectorSpace(space.get_total_dimension())
    return tuple(format_as(batch, space, flat) for batch in batches)


def parzen_log_likelihood(x, mu, sigma, rows_per_block=4):
    """adversarial :: theano_parzen: log of an equal mixture of isotropic Gaussians on mu's rows.

    e[i, j] = -1/2 sum_k ((x[i, k] - mu[j, k]) / sigma)^2, by the same float operations in the same
    order as the 2014 graph, computed in place on blocks of x's rows in one reused buffer, so that
    the (rows, n, d) differences stay in the cache (4 rows x 100 samples x 784 pixels: 1.2 MB) and
    no block is allocated afresh (a fresh block of that size is new pages for the kernel to map).
    """
    e = x.new_empty(x.shape[0], mu.shape[0])
    buffer = x.new_empty(min(rows_per_block, x.shape[0]), mu.shape[0], mu.shape[1])
    for start in range(0, x.shape[0], rows_per_block):
        rows = x[start:start + rows_per_block]
        block = torch.sub(rows.unsqueeze(1), mu.unsqueeze(0), out=buffer[:rows.shape[0]])
        torch.sum(block.div_(sigma).square_(), dim=2, out=e[start:start + rows_per_block])
    e.mul_(-0.5)
    m = e.max(dim=1).values
    log_mean_exp = m + torch.log(torch.exp(e - m.unsqueeze(1)).mean(dim=1))
    return log_mean_exp - mu.shape[1] * math.log(sigma * math.sqrt(2 * math.pi))


class AdversaryCost2:
    """adversarial :: AdversaryCost2, with the 2014 defaults (scale_grads=1 is ON by default)."""

    def __init__(self, scale_grads=1, target_scale=.1,
                 discriminator_default_input_include_prob=1.,
                 discriminator_input_include_probs=None,
                 discriminator_default_input_scale=1., discriminator_input_scales=None,
                 generator_default_input_include_prob=1., generator_default_input_scale=1.,
                 inference_default_input_include_prob=None, inference_input_include_probs=None,
                 inference_default_input_scale=1., inference_input_scales=None,
                 init_now_train_generator=True, ever_train_discriminator=True,
                 ever_train_generator=True, ever_train_inference=True, no_drop_in_d_for_g=False,
                 alternate_g=False, infer_layer=None, noise_both=0., blend_obj=False,
                 minimax_coeff=1., zurich_coeff=1., generator_objective="nonsaturating"):
        if infer_layer is not None or noise_both != 0.:
            raise NotImplementedError("AdversaryCost2: infer_layer / noise_both are not "
                                      "implemented in port_torch (no experiment uses them)")
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
        self.d_dropout = dict(default_input_include_prob=discriminator_default_input_include_prob,
                              input_include_probs=discriminator_input_include_probs,
                              default_input_scale=discriminator_default_input_scale,
                              input_scales=discriminator_input_scales)
        self.g_dropout = dict(default_input_include_prob=generator_default_input_include_prob,
                              default_input_scale=generator_default_input_scale)
        self.ever_train_discriminator = check_flag(owner, "ever_train_discriminator",
                                                   ever_train_discriminator)
        self.ever_train_generator = check_flag(owner, "ever_train_generator", ever_train_generator)
        check_flag(owner, "ever_train_inference", ever_train_inference)
        self.no_drop_in_d_for_g = check_flag(owner, "no_drop_in_d_for_g", no_drop_in_d_for_g)
        self.alternate_g = check_flag(owner, "alternate_g", alternate_g)
        self.blend_obj = check_flag(owner, "blend_obj", blend_obj)
        self.minimax_coeff = check_number(owner, "minimax_coeff", minimax_coeff)
        self.zurich_coeff = check_number(owner, "zurich_coeff", zurich_coeff)
        # NOT an option of the 2014 code (added here): see gan2014/generator_objectives.py.
        self.generator_objective = check_generator_objective(generator_objective, blend_obj)
        # Pylearn2's float32 shared flags (1.0 = train); alternate_g flips now_train_generator.
        self.now_train_generator = float(np.float32(init_now_train_generator))
        self.now_train_discriminator = 1.0

    # ---------------------------------------------------------------- randomness
    def draw(self, model, batch_size, streams):
        """This step's noise and masks, in a fixed order: z, G masks, D masks (real; fake)."""
        G, D = model.generator, model.discriminator
        z = G.get_noise(batch_size, streams["noise"])
        g_masks = draw_masks(G.mlp.dropout_settings(**self.g_dropout), G.mlp.input_spaces(),
                             batch_size, streams["dropout"])
        d_masks = draw_masks(D.dropout_settings(**self.d_dropout), D.input_spaces(),
                             2 * batch_size, streams["dropout"])
        return z, g_masks, d_masks

    @staticmethod
    def stack_masks(masks, spaces=None):
        """{"data": [...], "samp": [...]} (ARCHITECTURE.md) -> one mask per D layer input with the
        real half's examples, then the generated half's: (2B, width), or for a layer input of
        `spaces[i]` the two joined along that space's batch axis (the last one for c01b)."""
        if masks is None:
            return None
        axes = [0] * len(masks["data"]) if spaces is None else \
            [space.get_batch_axis() for space in spaces]
        return [None if d is None else torch.cat([torch.as_tensor(d), torch.as_tensor(s)], dim=axis)
                for d, s, axis in zip(masks["data"], masks["samp"], axes)]

    # ---------------------------------------------------------------- objectives and gradients
    def get_samples_and_objectives(self, model, X, z, d_masks, g_masks=None, streams=None):
        """S = G(z); D on [X; S] in one pass; d_obj and g_obj.

        Returns (S, d_obj, g_obj, logits_data, logits_samp). D sees the real and generated batch
        as one batch of 2B examples (joined along its input space's batch axis); each half has its
        own masks, so this equals the two dropout_fprop calls of 2014.
        """
        G, D = model.generator, model.discriminator
        B = D.batch_size_of(X)
        g_settings = G.mlp.dropout_settings(**self.g_dropout)
        S = G.mlp.layers[-1].activate(G.mlp.logits(z, _only_dropped(g_masks, g_settings),
                                                   scales=[s for _, s in g_settings]))
        d_settings = D.dropout_settings(**self.d_dropout)
        logits = D.logits(torch.cat([X, S], dim=D.batch_axis()), _only_dropped(d_masks, d_settings),
                          scales=[s for _, s in d_settings])
        l_data, l_samp = logits[:B], logits[B:]
        cost = D.layers[-1].cost
        d_obj = 0.5 * (cost(1.0, l_data) + cost(0.0, l_samp))
        if self.no_drop_in_d_for_g:
            # D.dropout_fprop(S) with the MLP's own defaults: p = .5 and scale 2 on every layer.
            settings = D.dropout_settings()
            masks = draw_masks(settings, D.input_spaces(), B, streams["dropout"])
            l_samp = D.logits(S, masks, scales=[s for _, s in settings])
        g_obj = cost(1.0, l_samp)
        if self.generator_objective == "minimax":
            # Not in the 2014 code: mean log(1 - D(G(z))) = -mean softplus(z0), same fake logits.
            g_obj = -cost(0.0, l_samp)
        if self.blend_obj:
            g_obj = (self.zurich_coeff * g_obj - self.minimax_coeff * d_obj) / \
                (self.zurich_coeff + self.minimax_coeff)
        return S, d_obj, g_obj, l_data, logits[B:]

    samples_and_objectives = get_samples_and_objectives   # the former name

    def gradients(self, model, X, z, d_masks, g_masks=None, streams=None):
        """get_gradients: dd_obj/dtheta_D and dg_obj/dtheta_G, both at the current parameters.

        One forward graph serves both: autograd.grad is called twice on it (retain_graph), so G's
        gradient flows through the same S, the same D parameters and the same fake-half masks that
        D's fake term used. Returns (grads in get_params() order, S, d_obj, g_obj, l_data, l_samp).
        """
        G_named = [(n, p) for n, p in model.named_params() if n.startswith("G/")]
        D_named = [(n, p) for n, p in model.named_params() if n.startswith("D/")]
        with torch.enable_grad():
            S, d_obj, g_obj, l_data, l_samp = self.get_samples_and_objectives(
                model, X, z, d_masks, g_masks, streams)
            d_grads = torch.autograd.grad(d_obj, [p for _, p in D_named], retain_graph=True)
            wrt = [p for _, p in G_named] + ([S] if self.scale_grads else [])
            g_grads = list(torch.autograd.grad(g_obj, wrt))
        if self.scale_grads:
            S_grad = g_grads.pop()
            scale = torch.clamp(self.target_scale / S_grad.square().sum().sqrt(), min=1.0)
            g_grads = [g * scale for g in g_grads]
        grads = OrderedDict()
        for (name, _), g in zip(G_named, g_grads):
            grads[name] = (g * self.now_train_generator if self.ever_train_generator
                           else torch.zeros_like(g))
        for (name, _), g in zip(D_named, d_grads):
            grads[name] = g * self.now_train_discriminator if self.ever_train_discriminator \
                else torch.zeros_like(g)
        return grads, S.detach(), d_obj.detach(), g_obj.detach(), l_data.detach(), l_samp.detach()

    def after_step(self):
        """get_gradients' update of the shared flag: with alternate_g, G trains every other step."""
        if self.alternate_g:
            self.now_train_generator = float(np.float32(1.0 - self.now_train_generator))

    def state_dict(self):
        return {"now_train_generator": self.now_train_generator}

    def load_state_dict(self, state):
        self.now_train_generator = float(state["now_train_generator"])

    # ------------------------------- monitoring (docs/pylearn2_semantics.md#monitoring-channels)
    def expr(self, model, X, generator):
        """Cost.expr, the `objective` channel: d_obj + g_obj with dropout and fresh draws."""
        _, d_obj, g_obj = self._fresh_objectives(model, X, generator)
        total = 0.0
        if self.ever_train_discriminator:
            total = total + d_obj
        if self.ever_train_generator:
            total = total + g_obj
        return total

    def _fresh_objectives(self, model, X, generator):
        G, D = model.generator, model.discriminator
        B = D.batch_size_of(X)
        z = G.get_noise(B, generator)
        g_masks = draw_masks(G.mlp.dropout_settings(**self.g_dropout), G.mlp.input_spaces(), B,
                             generator)
        d_masks = draw_masks(D.dropout_settings(**self.d_dropout), D.input_spaces(), 2 * B,
                             generator)
        S, d_obj, g_obj, _, _ = self.get_samples_and_objectives(model, X, z, d_masks, g_masks,
                                                                {"dropout": generator})
        return S, d_obj, g_obj

    def monitoring_channels(self, model, X, generator):
        """AdversaryCost2.get_monitoring_channels (plain fprop of D for the error rates).

        m = X.shape[0] as in 2014, also for c01b images, where it is the channel count (3): the
        CIFAR-10 conv run computed false_positives and sample_grad_norm on 3 samples.
        """
        G, D = model.generator, model.discriminator
        with torch.no_grad():
            false_negatives = (D(X) < 0.5).float().mean()
            samples = G.sample(X.shape[0], generator)
        return self._sample_channels(model, X, generator, false_negatives, samples, D.logits)

    def _sample_channels(self, model, X, generator, false_negatives, samples, d_logits):
        """The channels after D's error on the real batch: D's error on `samples` (d_logits maps
        samples to D's logits), the gradient norm at them, fresh objectives, the G switch."""
        D = model.discriminator
        channels = OrderedDict(false_negatives=false_negatives)
        with torch.enable_grad():
            samples.requires_grad_(True)
            # Sigmoid.cost(Y = D(S), logits of D(S)): the "target" is D's own output, and the
            # gradient flows through both arguments, as in 2014 (a diagnostic only).
            logits = d_logits(samples)
            y_hat = torch.sigmoid(logits)
            (sample_grad,) = torch.autograd.grad(-D.layers[-1].cost(y_hat, logits), samples)
        channels["false_positives"] = (y_hat.detach() > 0.5).float().mean()
        channels["sample_grad_norm"] = sample_grad.square().sum().sqrt()
        with torch.no_grad():
            _, d_obj, g_obj = self._fresh_objectives(model, X, generator)
            if model.monitor_discriminator:
                channels["objective_d"] = d_obj
            if model.monitor_generator:
                channels["objective_g"] = g_obj
        channels["now_train_generator"] = torch.tensor(self.now_train_generator)
        return channels


def _only_dropped(masks, settings):
    """Masks of layers whose include probability is 1 are ignored, as Pylearn2 ignored the layer."""
    if masks is None:
        return None
    return [None if p == 1.0 else m for m, (p, _) in zip(masks, settings)]


@torch.no_grad()
def evaluate_step(model, cost, X, z, masks=None):
    """Step-level evaluation for the fidelity tests (docs/ARCHITECTURE.md).

    At the current parameters, with noise z and dropout masks given ({"data": [...], "samp": [...]},
    or None for no dropout), returns d_obj, g_obj, S, D_data, D_samp and the gradients
    (dd_obj/dtheta_D for D, dg_obj/dtheta_G for G) as numpy arrays, in get_params() order.
    """
    device = model.device
    X = torch.as_tensor(np.asarray(X), device=device, dtype=model.dtype)
    z = torch.as_tensor(np.asarray(z), device=device, dtype=model.dtype)
    d_masks = cost.stack_masks(masks, model.discriminator.input_spaces())
    if d_masks is not None:
        d_masks = [None if m is None else m.to(device=device, dtype=model.dtype) for m in d_masks]
    grads, S, d_obj, g_obj, l_data, l_samp = cost.gradients(model, X, z, d_masks)
    return {"d_obj": float(d_obj), "g_obj": float(g_obj), "S": S.cpu().numpy(),
            "D_data": torch.sigmoid(l_data).cpu().numpy(),
            "D_samp": torch.sigmoid(l_samp).cpu().numpy(),
            "grads": OrderedDict((name, g.cpu().numpy()) for name, g in grads.items())}

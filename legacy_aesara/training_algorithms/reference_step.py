"""The Aesara SGD step written out top to bottom: the reference the other paths are tested against
(`--path reference`).

It builds the graph of Pylearn2's `sgd_update` for goodfeli/adversarial's AdversaryCost2 with
Momentum: both networks' gradients at the SAME (old) parameters, then every shared variable
assigned at once (a simultaneous D/G update, as in 2014). The maths of each line is in its
comment; the per-layer arithmetic is the model's own (MLP.dropout_fprop / fprop, Sigmoid.cost,
modify_updates). The graph is built with the calls of the "grad" path in the same order, so it
takes the same MRG seeds and draws the same numbers: parity_tests/test_aesara_paths.py trains
both, and the "fused" path, and compares them.
"""
import itertools
from collections import OrderedDict

import aesara.tensor as at

from gan2014.seeds import NOISE_BOTH_SEED
from legacy_aesara.adversarial import DRAW, NO_DROPOUT
from legacy_aesara.random_streams import mrg_normal, new_mrg_stream
from legacy_aesara.space import batch_size


def step_updates(model, cost, X, learning_rate, learning_rule, noise=None, dropout_masks=DRAW):
    """OrderedDict shared variable -> its value after one step on the symbolic batch X.

    noise / dropout_masks as in AdversaryCost2.build_objectives (DRAW: drawn from the MRG streams;
    NO_DROPOUT; or fed {"data": [...], "samp": [...]} with noise fed too).
    """
    g, d = model.generator, model.discriminator
    m = batch_size(model.get_input_space(), X)
    if noise is None and dropout_masks is not DRAW:
        raise ValueError("feeding dropout masks (or disabling dropout) needs the noise fed too")

    # 1. Noise: z ~ U(-sqrt 3, sqrt 3) per entry (mnist.yaml), the next block of G's MRG stream.
    #    S = G(z). G's dropout pass (include probability 1 in every config) masks nothing, but
    #    building it takes one seed from G's RandomState, as in 2014.
    if dropout_masks is DRAW:
        z = g.get_noise((m, g.noise_dim())) if noise is None else noise
        S = g.mlp.dropout_fprop(z, cost.generator_default_input_include_prob,
                                default_input_scale=cost.generator_default_input_scale)
    else:
        z, S = noise, g.mlp.fprop(noise)
    if cost.noise_both != 0.:
        # noise_both: Gaussian noise of that std added to both D inputs (not in the paper runs).
        both = new_mrg_stream(NOISE_BOTH_SEED)
        S = S + mrg_normal(both, S.shape, S.dtype) * cost.noise_both
        X = X + mrg_normal(both, X.shape, S.dtype) * cost.noise_both

    # 2. D on the real batch and on S: two dropout passes, each with a fresh MRG stream seeded from
    #    D's RandomState (real first), h <- h * mask * scale, mask ~ Bernoulli(p) per input unit.
    d_probs = (cost.discriminator_default_input_include_prob,
               cost.discriminator_input_include_probs,
               cost.discriminator_default_input_scale, cost.discriminator_input_scales)
    if dropout_masks is NO_DROPOUT:
        y_real, y_fake = d.fprop(X), d.fprop(S)
    else:
        fed = {"data": None, "samp": None} if dropout_masks is DRAW else dropout_masks
        y_real = d.dropout_fprop(X, *d_probs, masks=fed["data"])
        y_fake = d.dropout_fprop(S, *d_probs, masks=fed["samp"])

    # 3. D's objective: d_obj = 1/2 [ -mean log D(x) - mean log(1 - D(G(z))) ] (Sigmoid.cost is
    #    the cross-entropy, taken from D's logit).
    bce = d.layers[-1].cost
    ones, zeros = at.alloc(1, m, 1), at.alloc(0, m, 1)
    d_obj = 0.5 * (bce(ones, y_real) + bce(zeros, y_fake))
    # 4. G's objective on the same D(G(z)) (same samples, same masks): non-saturating
    #    g_obj = -mean log D(G(z)); minimax: mean log(1 - D(G(z))); blend_obj mixes in -d_obj.
    if cost.no_drop_in_d_for_g:
        # D run again on S with the MLP's default dropout (p = .5, scale 2 on every layer).
        y_fake = d.fprop(S) if dropout_masks is NO_DROPOUT else d.dropout_fprop(S)
    g_obj = bce(ones, y_fake)
    if cost.generator_objective == "minimax":
        g_obj = -bce(zeros, y_fake)
    if cost.blend_obj:
        g_obj = ((cost.zurich_coeff * g_obj - cost.minimax_coeff * d_obj)
                 / (cost.zurich_coeff + cost.minimax_coeff))

    # 5. Gradients at the current parameters: dd_obj/dtheta_D for D, dg_obj/dtheta_G for G.
    d_params, g_params = d.get_params(), g.get_params()
    d_grads = at.grad(d_obj, d_params)
    g_grads = at.grad(g_obj, g_params)
    if cost.scale_grads:
        # G's gradients * max(1, target_scale / ||dg_obj/dS||).
        S_grad = at.grad(g_obj, S)
        scale = at.maximum(1., cost.target_scale / at.sqrt(at.square(S_grad).sum()))
        g_grads = [g_grad * scale for g_grad in g_grads]
    # The training switches (float32 shared flags, 1 = train), D's parameters first.
    grads = OrderedDict()
    never = itertools.repeat(at.constant(0., dtype="float32"))
    grads.update(zip(d_params, [cost.now_train_discriminator * gr for gr in d_grads]
                     if cost.ever_train_discriminator else never))
    grads.update(zip(g_params, [cost.now_train_generator * gr for gr in g_grads]
                     if cost.ever_train_generator else never))
    updates = OrderedDict()
    if cost.alternate_g:
        # alternate_g: G's switch flips every step.
        updates[cost.now_train_generator] = 1. - cost.now_train_generator

    # 6. Pylearn2 momentum, all parameters at once from the old values:
    #    v <- mu v - lr lr_scale g ;  p <- p + v   (no learning rule: p <- p - lr lr_scale g).
    lr_scalers = model.get_lr_scalers()
    for param, grad in grads.items():
        step = learning_rate * lr_scalers.get(param, 1.) * grad
        if learning_rule is None:
            updates[param] = param - step
            continue
        v = learning_rule.velocity(param)
        updates[v] = learning_rule.momentum * v - step
        updates[param] = param + updates[v]
    # 7. Max-norm projection of the new weights (G's layers, then D's; velocities untouched):
    #    W[:, j] <- W[:, j] * clip(||W[:, j]||, 0, c) / (1e-7 + ||W[:, j]||) for max_col_norm c.
    model.modify_updates(updates)
    return updates

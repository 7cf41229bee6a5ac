"""One training step of the torch port, written out top to bottom: the reference every faster
step is tested against (`--path reference`).

It is the step of Pylearn2's SGD with goodfeli/adversarial's AdversaryCost2 and Momentum, in the
order the 2014 compiled `sgd_update` evaluated it: both networks' gradients are taken at the SAME
(old) parameters and then every parameter moves at once (a simultaneous update, not the
alternating D-step / G-step of later GAN code). The maths of each line is in its comment; the
model's own forward functions (MLP.logits, Layer.activate, Layer.cost, Layer.constrain_) do the
per-layer arithmetic. The other steps compute the same numbers in other ways:
* "autograd" (sgd.SGD._autograd_step): AdversaryCost2.gradients + learning_rule.update_, equal
  to this function bit for bit (parity_tests/test_torch_paths.py);
* "fused" and "graph" (fused_step.py, graph_step.py): a hand-written backward, equal to this
  function up to float32 rounding (same test file, same tolerances as fused vs autograd).
"""
import torch

from port_torch.random_streams import draw_masks, draw_noise


def reference_step(model, cost, velocities, X, lr, momentum, lr_scales=None, z=None,
                   d_masks=None):
    """Update `model`'s parameters and `velocities` (get_params() order) in place from batch X;
    returns (d_obj, g_obj). Noise and masks are drawn from model.streams unless z (and d_masks,
    one per D layer input for the 2B stacked rows, or None) are given."""
    G, D = model.generator, model.discriminator
    names, params = zip(*model.named_params())
    dtype, B = model.dtype, D.batch_size_of(X)
    g_settings = G.mlp.dropout_settings(**cost.g_dropout)    # [(include prob p, scale s)] per layer
    d_settings = D.dropout_settings(**cost.d_dropout)

    # 1. Randomness, always in this order: noise first, then G's masks, then D's masks.
    #    z ~ U(-sqrt 3, sqrt 3) per entry (unit variance; mnist.yaml's noise: uniform).
    #    mask ~ Bernoulli(p) per layer input, drawn as u < p with u ~ U(0, 1); D's masks cover the
    #    2B rows [real; fake], so the two halves get independent masks.
    g_masks = None
    if z is None:
        z = draw_noise(G.noise, (B, G.noise_dim), model.streams["noise"]).to(dtype)
        g_masks = _as(dtype, draw_masks(g_settings, G.mlp.input_spaces(), B,
                                        model.streams["dropout"]))
        d_masks = _as(dtype, draw_masks(d_settings, D.input_spaces(), 2 * B,
                                        model.streams["dropout"]))

    with torch.enable_grad():
        # 2. Forward. S = G(z), each layer's input h replaced by h * mask * s where p < 1.
        S = G.mlp.layers[-1].activate(G.mlp.logits(z, _dropped(g_masks, g_settings),
                                                   scales=[s for _, s in g_settings]))
        #    D sees one batch [X; S] of 2B examples; l = D's last pre-activation (the logit).
        logits = D.logits(torch.cat([X, S], dim=D.batch_axis()), _dropped(d_masks, d_settings),
                          scales=[s for _, s in d_settings])
        l_real, l_fake = logits[:B], logits[B:]
        # bce(y, l) = mean(y softplus(-l) + (1-y) softplus(l))
        bce = D.layers[-1].cost

        # 3. D's objective: d_obj = 1/2 [ -mean log D(x) - mean log(1 - D(G(z))) ].
        d_obj = 0.5 * (bce(1.0, l_real) + bce(0.0, l_fake))
        # 4. G's objective, on the same fake logits (same samples, same masks):
        #    non-saturating g_obj = -mean log D(G(z)); minimax g_obj = mean log(1 - D(G(z)));
        #    blend_obj: (zurich * g_obj - minimax * d_obj) / (zurich + minimax).
        if cost.no_drop_in_d_for_g:
            # D run again on S alone with the MLP's default dropout (p = .5, s = 2 everywhere).
            default = D.dropout_settings()
            l_fake = D.logits(S, draw_masks(default, D.input_spaces(), B, model.streams["dropout"]),
                              scales=[s for _, s in default])
        g_obj = bce(1.0, l_fake)
        if cost.generator_objective == "minimax":
            g_obj = -bce(0.0, l_fake)
        if cost.blend_obj:
            g_obj = (cost.zurich_coeff * g_obj - cost.minimax_coeff * d_obj) / \
                (cost.zurich_coeff + cost.minimax_coeff)

        # 5. Gradients, both at the current parameters: dd_obj/dtheta_D and dg_obj/dtheta_G
        #    (the G gradient flows back through D's parameters, which it does not change).
        d_params = [p for n, p in zip(names, params) if n.startswith("D/")]
        g_params = [p for n, p in zip(names, params) if n.startswith("G/")]
        d_grads = torch.autograd.grad(d_obj, d_params, retain_graph=True)
        g_grads = list(torch.autograd.grad(g_obj, g_params + ([S] if cost.scale_grads else [])))
    if cost.scale_grads:
        # scale_grads: G's gradients * max(1, target_scale / ||dg_obj/dS||).
        norm = g_grads.pop().square().sum().sqrt()
        g_grads = [g * torch.clamp(cost.target_scale / norm, min=1.0) for g in g_grads]
    # The training switches (1.0 = train; alternate_g toggles G's every step).
    g_grads = [g * cost.now_train_generator if cost.ever_train_generator else torch.zeros_like(g)
               for g in g_grads]
    d_grads = [g * cost.now_train_discriminator if cost.ever_train_discriminator
               else torch.zeros_like(g) for g in d_grads]

    with torch.no_grad():
        # 6. Pylearn2 momentum, every parameter at once: v <- mu v - lr lr_scale g ; p <- p + v.
        scales = lr_scales or [1.0] * len(params)
        for p, v, g, scale in zip(params, velocities, g_grads + d_grads, scales):
            v.mul_(momentum)
            v.sub_(g * lr if lr_scales is None else g * (lr * scale))
            p.add_(v)
        # 7. Max-norm projection of the new weights (the velocities keep the raw increment):
        #    W[:, j] <- W[:, j] * min(||W[:, j]||, c) / (1e-7 + ||W[:, j]||) for max_col_norm c.
        for layer in list(G.mlp.layers) + list(D.layers):
            layer.constrain_()
    # 8. alternate_g: G trains on every other step.
    cost.after_step()
    return d_obj.detach(), g_obj.detach()


def _as(dtype, masks):
    """The streams draw float32 (as 2014's noise was); a float64 model computes in float64."""
    return [None if m is None else m.to(dtype) for m in masks]


def _dropped(masks, settings):
    """Masks of layers whose include probability is 1 are ignored, as Pylearn2 ignored the layer."""
    if masks is None:
        return None
    return [None if p == 1.0 else m for m, (p, _) in zip(masks, settings)]

"""One training step of AdversaryCost2 + Momentum with a hand-written backward pass.

Same math as adversarial.AdversaryCost2.gradients followed by learning_rule.update_ (tested equal
in parity_tests/test_torch_paths.py), arranged to avoid the work autograd repeats:

* one forward: G(z), then D on the 2B-row matrix [X; S] with per-half dropout masks;
* D's output is one logit per row and every D layer is piecewise linear given its masks and
  maxout winners, so the backward is linear in the upstream gradient of each row. The backward is
  therefore run ONCE with upstream 1 per row, and each objective weights the rows afterwards:
      dd_obj/dtheta_D = sum_rows c_d[row] * (per-row terms),  c_d = 0.5*(sigmoid(l)-1)/B (real),
                                                              c_d = 0.5*sigmoid(l)/B     (fake)
      dg_obj/dS       = c_g[row] * (per-row input gradient),  c_g = (sigmoid(l)-1)/B    (fake)
  instead of two backward passes through D's fake half;
* the maxout gradient goes whole to every piece equal to the max, as the 2014 Theano's gradient
  of Pylearn2's maximum chain did (models/maxout.py :: max_over_pieces, where ties are discussed);
* the momentum update is learning_rule.update_'s arithmetic with each weight gradient folded into
  the GEMM that accumulates it into the velocity (BLAS's C <- beta C + alpha A B), so the gradient
  array is never written and the update makes one pass less over the parameters.

The conditional model (conditional_gan.py) takes the same step: G reads [z | c] and D's fake rows
are [G(z, c) | c], with c the label columns of the real rows; its first layers are CompositeLayers,
whose sub-layers ("parts") each read their own input columns and write their own output columns,
and G has dropout, so G's layer inputs are masked as D's are. Only the S columns of D's input
gradient reach G.

Every function here is written for parameters with or without a leading "model" axis K, so the same
code runs one model (mm) or K independent models at once (bmm; training_algorithms/batched.py).
Nothing here synchronises with the host, so a CUDA graph can capture `step_core`.
"""
import torch

from port_torch.models.mlp import clip_norms_
from port_torch.random_streams import draw_masks, draw_noise
from port_torch.space import VectorSpace

SUPPORTED_KINDS = ("linear", "relu", "sigmoid", "maxout")
ALL = slice(None)


class Part:
    """One affine map of a layer and its activation: a whole layer, or one sub-layer of a
    CompositeLayer, which reads the columns `cols_in` of the layer's input and writes the columns
    `cols_out` of its output. `w` and `b` index its W and b in the parameter list."""

    def __init__(self, layer, w, cols_in=ALL, cols_out=ALL):
        self.layer, self.kind = layer, layer.kind
        self.pieces = getattr(layer, "num_pieces", 1)
        self.w, self.b = w, w + 1
        self.cols_in, self.cols_out = cols_in, cols_out


def layer_parts(mlp, first):
    """Per layer of `mlp`, its Parts, with parameter indices counted from `first` in get_params()
    order (each part's W then b; a CompositeLayer's parts in sub-layer order)."""
    layers, index = [], first
    for layer in mlp.layers:
        if layer.kind == "composite":
            parts = []
            for sub, cols_in, cols_out in zip(layer.parts, layer.in_slices, layer.out_slices):
                parts.append(Part(sub, index, cols_in, cols_out))
                index += 2
        else:
            parts = [Part(layer, index)]
            index += 2
        layers.append(parts)
    return layers


def is_conditional(model):
    """Whether G reads [z | c] and D's fake rows carry c (a ConditionalAdversaryPair)."""
    return hasattr(model.generator, "num_classes")


class FusedSpec:
    """What the fused step needs to know about a model and cost, read once from the modules."""

    def __init__(self, model, cost):
        G, D = model.generator.mlp, model.discriminator
        self.problems = unsupported(model, cost)
        if self.problems:
            return
        self.g_layers = layer_parts(G, 0)
        self.n_g = sum(2 * len(parts) for parts in self.g_layers)
        self.d_layers = layer_parts(D, self.n_g)
        self.noise = model.generator.noise
        self.noise_dim = model.generator.noise_dim
        self.conditional = is_conditional(model)
        if self.conditional:
            # Columns of a D row: [pixels | labels]; G writes the pixels.
            self.sample_cols, self.label_cols = D.input_space.component_slices()
        self.g_settings = G.dropout_settings(**cost.g_dropout)
        self.g_dropout = any(p != 1.0 for p, _ in self.g_settings)
        self.g_widths = G.input_widths()
        self.d_settings = D.dropout_settings(**cost.d_dropout)
        self.d_widths = D.input_widths()
        self.scale_grads, self.target_scale = cost.scale_grads, cost.target_scale
        self.blend = (cost.zurich_coeff, cost.minimax_coeff) if cost.blend_obj else None
        self.minimax = getattr(cost, "generator_objective", "nonsaturating") == "minimax"
        self.train_d = 1.0 if cost.ever_train_discriminator else 0.0
        self.ever_train_g = cost.ever_train_generator
        self.alternate_g = cost.alternate_g
        # (index of W in the parameter list, its layer) for every W with a norm constraint.
        self.constrained = [(part.w, part.layer) for parts in self.g_layers + self.d_layers
                            for part in parts if part.layer.has_constraint()]


def unsupported(model, cost):
    """Reasons the fused step cannot run this configuration (empty list: it can)."""
    G, D = model.generator.mlp, model.discriminator
    problems = []
    for layer in list(G.layers) + list(D.layers):
        parts = layer.parts if getattr(layer, "kind", None) == "composite" else [layer]
        problems += [f"layer {part.layer_name} ({type(part).__name__})" for part in parts
                     if getattr(part, "kind", None) not in SUPPORTED_KINDS]
    if D.layers[-1].kind != "sigmoid" or D.output_dim != 1:
        problems.append("D must end in a 1-unit Sigmoid")
    if G.layers[-1].kind == "composite":
        problems.append("a CompositeLayer as G's output layer")
    if not isinstance(D.input_space, VectorSpace):
        # Its batches are images (c01b), which the matrix arithmetic here would misread.
        problems.append(f"the discriminator's input space {D.input_space!r}")
    if cost.no_drop_in_d_for_g:
        problems.append("no_drop_in_d_for_g")
    if any(s not in (None, 1) for layer in list(G.layers) + list(D.layers)
           for s in layer.lr_scales.values()):
        problems.append("lr scalers")
    return problems


def draw(spec, streams, batch_size, device):
    """z, then the masks: the order and calls of AdversaryCost2.draw, hence the same numbers.

    The masks are D's layer inputs' (real rows, then fake rows), preceded by G's where G has
    dropout (`spec.g_dropout`; `split_masks` takes them apart)."""
    z = draw_noise(spec.noise, (batch_size, spec.noise_dim), streams["noise"], device)
    g_masks = draw_masks(spec.g_settings, spec.g_widths, batch_size, streams["dropout"], device)
    masks = draw_masks(spec.d_settings, spec.d_widths, 2 * batch_size, streams["dropout"], device)
    return z, (g_masks + masks if spec.g_dropout else masks)


def split_masks(spec, masks):
    """(G's masks, D's masks) of a mask list: G's then D's, as `draw` makes them where G has
    dropout, or D's alone (G's input left whole, as in a step given D's masks only)."""
    n_g = len(spec.g_layers)
    if len(masks) == n_g + len(spec.d_layers):
        return masks[:n_g], masks[n_g:]
    return [None] * n_g, masks


def affine(x, W, b):
    if x.dim() == 2:
        return torch.addmm(b, x, W)
    return torch.baddbmm(b.unsqueeze(-2), x, W)


def t(W):
    return W.transpose(-1, -2)


def activate(kind, pieces, a):
    if kind == "relu":
        return torch.relu(a)
    if kind == "sigmoid":
        return torch.sigmoid(a)
    if kind == "maxout":
        return a.unflatten(-1, (-1, pieces)).amax(dim=-1)
    return a


def smallest_subnormal(dtype):
    """2**-149 for float32, 2**-1074 for float64: no negative number of the dtype lies above
    minus it."""
    info = torch.finfo(dtype)
    return info.smallest_normal * info.eps


def activation_backward(kind, pieces, a, out, delta):
    """d(out)/d(a) applied to delta (the gradient w.r.t. the layer's output)."""
    if kind == "relu":
        # delta where a > 0, else 0, in one pass (Pylearn2's switch(z > 0, z, 0) has gradient 0
        # at 0).
        return torch.ops.aten.threshold_backward(delta, a, 0.0)
    if kind == "sigmoid":
        return delta * (out * (1 - out))
    if kind == "maxout":
        # Every piece equal to its unit's max gets the unit's delta. a - max is 0 there and
        # negative (at most minus the smallest subnormal) elsewhere, so threshold_backward's
        # "delta where a - max > -smallest subnormal, else +0" selects exactly the winners, in one
        # vectorised pass (torch.where on these shapes is 2-3x slower). Only infinite
        # activations (inf - inf is NaN) would be routed differently, and they mean the step has
        # already diverged.
        below_max = a.unflatten(-1, (-1, pieces)) - out.unsqueeze(-1)
        spread = delta.unsqueeze(-1).expand(below_max.shape).contiguous()
        return torch.ops.aten.threshold_backward(spread, below_max,
                                                 -smallest_subnormal(a.dtype)).flatten(-2)
    return delta


def forward(layers, params, x, scaled_masks=None):
    """Per layer: its input (after mask * scale), and per part its pre-activation and output
    (the last layer's output is its pre-activation)."""
    inputs, pre, outs = [], [], []
    for i, parts in enumerate(layers):
        if scaled_masks is not None and scaled_masks[i] is not None:
            x = x * scaled_masks[i]
        a = [affine(x[..., part.cols_in], params[part.w], params[part.b]) for part in parts]
        h = a if i + 1 == len(layers) else [activate(part.kind, part.pieces, a_part)
                                             for part, a_part in zip(parts, a)]
        inputs.append(x)
        pre.append(a)
        outs.append(h)
        x = h[0] if len(h) == 1 else torch.cat(h, dim=-1)
    return inputs, pre, outs


def parts_backward(parts, pre, outs, delta):
    """Per part, d(its output)/d(its pre-activation) applied to its columns of delta."""
    return [activation_backward(part.kind, part.pieces, a, out, delta[..., part.cols_out])
            for part, a, out in zip(parts, pre, outs)]


def input_gradient(parts, params, deltas, width):
    """The gradient w.r.t. the layer's input (`width` columns) of the parts' pre-activation
    gradients `deltas`."""
    if len(parts) == 1 and parts[0].cols_in == ALL:
        return deltas[0] @ t(params[parts[0].w])
    grad = deltas[0].new_zeros(*deltas[0].shape[:-1], width)
    for part, delta in zip(parts, deltas):
        grad[..., part.cols_in] += delta @ t(params[part.w])
    return grad


class Outer:
    """A weight gradient left @ right, kept as its two factors so that the momentum update can
    fold the product into one GEMM on the velocity (`velocity_gemm_`)."""

    def __init__(self, left, right):
        self.left, self.right = left, right

    def materialize(self):
        return self.left @ self.right


def gradients(spec, params, X, z, masks, g_flag):
    """(grads in get_params() order, d_obj, g_obj) of AdversaryCost2 at `params`.

    Weight gradients are `Outer` factor pairs (call .materialize() for the array), biases tensors.

    `params` is [G's W, b per layer part..., D's W, b per layer part...] (the Parts' indices);
    X (B, in) is shared by all models; z and masks may carry the leading model axis; masks as
    `draw` makes them. g_flag is now_train_generator (a 0-d tensor).
    """
    B = X.shape[-2]
    g_masks, masks = split_masks(spec, masks)
    # Generator forward, on [z | c] for the conditional model.
    labels = X[..., spec.label_cols].expand(*z.shape[:-1], -1) if spec.conditional else None
    g_x = z if labels is None else torch.cat([z, labels], dim=-1)
    g_scaled = [None if m is None else m * s for m, (_, s) in zip(g_masks, spec.g_settings)]
    g_in, g_pre, g_out = forward(spec.g_layers, params, g_x, g_scaled)
    out_part = spec.g_layers[-1][0]
    S = activate(out_part.kind, out_part.pieces, g_pre[-1][0])
    fake = S if labels is None else torch.cat([S, labels], dim=-1)
    # Discriminator forward on [X; fake]; Pylearn2's h * mask * s with mask * s precomputed.
    XS = torch.cat([X.expand(*S.shape[:-2], *X.shape), fake], dim=-2)
    scaled = [None if m is None else m * s for m, (_, s) in zip(masks, spec.d_settings)]
    d_in, d_pre, d_out = forward(spec.d_layers, params, XS, scaled)
    logits = d_pre[-1][0]                                   # (.., 2B, 1)
    l_data, l_samp = logits[..., :B, :], logits[..., B:, :]
    softplus = torch.nn.functional.softplus
    d_obj = 0.5 * (softplus(-l_data).mean(dim=(-2, -1)) + softplus(l_samp).mean(dim=(-2, -1)))
    g_obj = softplus(-l_samp).mean(dim=(-2, -1))

    # Per-row weights of the two objectives (d/dlogit of each mean).
    sig = torch.sigmoid(logits)
    c_d = torch.cat([0.5 * (sig[..., :B, :] - 1), 0.5 * sig[..., B:, :]],
                    dim=-2) * (spec.train_d / B)
    c_g = (sig[..., B:, :] - 1) / B
    if spec.minimax:
        # generator_objective='minimax' (not in 2014): g_obj = -mean softplus(l),
        # d/dl = -sigmoid(l)/B.
        c_g = -sig[..., B:, :] / B
        g_obj = -softplus(l_samp).mean(dim=(-2, -1))
    if spec.blend is not None:
        zurich, minimax = spec.blend
        c_g = (zurich * c_g - minimax * c_d[..., B:, :]) / (zurich + minimax)
        g_obj = (zurich * g_obj - minimax * d_obj) / (zurich + minimax)

    # Discriminator backward, upstream 1 per row.
    grads = [None] * len(params)
    last = len(spec.d_layers) - 1
    (out_part,) = spec.d_layers[last]
    grads[out_part.w] = Outer(t(d_in[last]), c_d)
    grads[out_part.b] = c_d.sum(dim=-2)
    delta = t(params[out_part.w])  # d logit / d (input of the last layer)
    if scaled[last] is not None:
        delta = delta * scaled[last]
    for i in range(last - 1, -1, -1):
        parts = spec.d_layers[i]
        deltas_a = parts_backward(parts, d_pre[i], d_out[i], delta)
        for part, delta_a in zip(parts, deltas_a):
            weighted = delta_a * c_d
            grads[part.w] = Outer(t(d_in[i][..., part.cols_in]), weighted)
            grads[part.b] = weighted.sum(dim=-2)
        if i > 0:
            delta = input_gradient(parts, params, deltas_a, d_in[i].shape[-1])
            if scaled[i] is not None:
                delta = delta * scaled[i]
    # dg_obj/dS: only the fake half, weighted by c_g, through D's first layer and its mask; of a
    # conditional D's input only the sample columns come from G.
    delta_S = input_gradient(spec.d_layers[0], params,
                             [delta_a[..., B:, :] * c_g for delta_a in deltas_a],
                             d_in[0].shape[-1])
    if scaled[0] is not None:
        delta_S = delta_S * scaled[0][..., B:, :]
    if spec.conditional:
        delta_S = delta_S[..., spec.sample_cols]
    if spec.scale_grads:
        norm = delta_S.square().sum(dim=(-2, -1), keepdim=True).sqrt()
        delta_S = delta_S * torch.clamp(spec.target_scale / norm, min=1.0)
    delta = delta_S * g_flag

    # Generator backward (through G's masks where it has dropout).
    for i in range(len(spec.g_layers) - 1, -1, -1):
        parts = spec.g_layers[i]
        outs = [S] if i == len(spec.g_layers) - 1 else g_out[i]
        deltas_a = parts_backward(parts, g_pre[i], outs, delta)
        for part, delta_a in zip(parts, deltas_a):
            grads[part.w] = Outer(t(g_in[i][..., part.cols_in]), delta_a)
            grads[part.b] = delta_a.sum(dim=-2)
        if i > 0:
            delta = input_gradient(parts, params, deltas_a, g_in[i].shape[-1])
            if g_scaled[i] is not None:
                delta = delta * g_scaled[i]
    return grads, d_obj, g_obj


@torch.no_grad()
def constrain_(spec, params):
    """The layers' max/min norm projections on the new W (velocities untouched)."""
    for index, layer in spec.constrained:
        clip_norms_(params[index], layer.max_row_norm, layer.max_col_norm, layer.min_col_norm)


def velocity_gemm_(v, outer, lr, momentum):
    """v <- momentum * v - lr * (left @ right), as one BLAS call when lr and momentum are numbers.

    With 0-d tensors (the CUDA-graph step keeps them on the device) the scalars cannot be GEMM
    coefficients, so v is scaled first and lr is folded into the small right factor instead.
    """
    gemm_ = v.addmm_ if v.dim() == 2 else v.baddbmm_
    if isinstance(lr, float) and isinstance(momentum, float):
        gemm_(outer.left, outer.right, beta=momentum, alpha=-lr)
    else:
        v.mul_(momentum)
        gemm_(outer.left, outer.right * (-lr))


@torch.no_grad()
def momentum_update_(params, velocities, grads, lr, momentum):
    """learning_rule.update_ for gradients whose weights come as Outer pairs: v <- mu v - lr g;
    p <- p + v for every parameter at once (same arithmetic, fewer passes over memory)."""
    biases = [(v, g) for v, g in zip(velocities, grads) if not isinstance(g, Outer)]
    for v, g in zip(velocities, grads):
        if isinstance(g, Outer):
            velocity_gemm_(v, g, lr, momentum)
    update_velocities = [v for v, _ in biases]
    torch._foreach_mul_(update_velocities, momentum)
    torch._foreach_sub_(update_velocities, torch._foreach_mul([g for _, g in biases], lr))
    torch._foreach_add_(params, velocities)


@torch.no_grad()
def step_core(spec, params, velocities, X, z, masks, lr, momentum, g_flag):
    """Gradients at the old parameters, then one simultaneous momentum update of all of them."""
    grads, d_obj, g_obj = gradients(spec, params, X, z, masks, g_flag)
    momentum_update_(params, velocities, grads, lr, momentum)
    constrain_(spec, params)
    if spec.alternate_g:
        g_flag.copy_(1 - g_flag)
    return d_obj, g_obj

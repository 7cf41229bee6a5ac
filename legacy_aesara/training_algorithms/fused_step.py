"""AdversaryCost2's gradients written out by hand, as one lean Aesara graph (the `fused` path).

`AdversaryCost2.get_gradients` builds the 2014 graph (adversarial/__init__.py): D runs twice (real
batch, generated batch), `aesara.grad` differentiates d_obj through D and, separately, g_obj through
D again and then through G. This module builds the SAME gradients -- same noise, same dropout masks
drawn from the same MRG streams in the same order, same formulas -- with the work arranged for
speed (measured by `python -m legacy_aesara.bench --path grad,fused`):

* D runs once on the 2B-row matrix [X; S] (one product per layer instead of two half-size ones),
  with the real half's and the generated half's masks stacked the same way;
* D's output is one logit per row and, given its masks and maxout winners, D is linear in its
  input, so the gradient of either objective w.r.t. any of D's activations is a per-row multiple of
  the gradient of the logit itself. The backward pass through D therefore runs ONCE with upstream
  1 per row; d_obj's weights scale the rows for D's parameter gradients, g_obj's for dg_obj/dS:
      dd_obj/dlogit = 0.5 (sigmoid(l) - 1) / B  (real rows),   0.5 sigmoid(l) / B  (generated rows)
      dg_obj/dlogit =     (sigmoid(l) - 1) / B  (generated rows)
  instead of a second backward pass through D's generated half;
* the row weights are applied to the narrower factor of each product (layer inputs of 784 or 240
  columns rather than 1200 detector columns), and the maxout gradient is one comparison with the
  winner per piece instead of Pylearn2's chain of strided slices and their increments.

The maxout gradient goes to every piece equal to the maximum, which is what the 2014 Theano's
gradient of Pylearn2's `maximum` chain gave (models/maxout.py :: maximum_of, where ties are
discussed).
The conditional model (conditional_gan.py) takes the same step: G reads [z | c] and D's generated
rows are [G(z, c) | c], with c the label columns of the real rows. Its first layers are
CompositeLayers, whose sub-layers ("parts") each read their own columns of the layer's input and
write their own columns of its output; and its G has dropout, whose masks are drawn (after z,
before D's) as ConditionalAdversaryCost.build_objectives draws them. Only the sample columns of
D's input gradient reach G.

Supported: the dense layers of the 2014 configs (Linear, RectifiedLinear, Sigmoid, Maxout with
adjacent pieces), alone or as the parts of a CompositeLayer, with D ending in a one-unit Sigmoid;
`unsupported()` names anything else and the SGD then uses `AdversaryCost2.get_gradients`.
Equality with it is tested in parity_tests/test_aesara_paths.py (and, for the conditional model,
parity_tests/test_conditional_parity.py).
"""
import itertools
from collections import OrderedDict

import aesara.tensor as at

from legacy_aesara.adversarial import DRAW, NO_DROPOUT
from legacy_aesara.conditional_gan import ConditionalAdversaryCost, ConditionalGenerator
from legacy_aesara.models.composite import CompositeLayer
from legacy_aesara.models.maxout import Maxout
from legacy_aesara.models.mlp import Linear, RectifiedLinear, Sigmoid
from legacy_aesara.random_streams import quiet_mrg
from legacy_aesara.space import VectorSpace

LAYER_KINDS = {Linear: "linear", RectifiedLinear: "relu", Sigmoid: "sigmoid", Maxout: "maxout"}
ALL = slice(None)


def layer_kind(layer):
    """'linear', 'relu', 'sigmoid', 'maxout', or None for a layer this module cannot differentiate.

    Exact types only: a subclass may change fprop in ways the hand-written backward does not know.
    """
    kind = LAYER_KINDS.get(type(layer))
    if kind == "maxout" and (layer.pool_stride != layer.num_pieces or layer.randomize_pools
                             or layer.min_zero):
        return None
    if not getattr(layer, "use_bias", True) or getattr(layer, "requires_reformat", False):
        return None          # no bias, or an image input the layer flattens first
    return kind


class Part:
    """One affine map of a layer and its activation: a whole layer, or one sub-layer of a
    CompositeLayer, which reads the columns `cols_in` of the layer's input and writes the columns
    `cols_out` of its output."""

    def __init__(self, layer, cols_in=ALL, cols_out=ALL):
        self.layer, self.kind = layer, layer_kind(layer)
        self.W, self.b = layer.W, layer.b
        self.cols_in, self.cols_out = cols_in, cols_out


def sub_layers(layer):
    """A CompositeLayer's sub-layers, or [layer]."""
    return list(layer.layers) if type(layer) is CompositeLayer else [layer]


def layer_parts(layers):
    """Per layer, its Parts (a CompositeLayer's in sub-layer order)."""
    rval = []
    for layer in layers:
        if type(layer) is CompositeLayer:
            rval.append([Part(sub, cols_in, cols_out) for sub, cols_in, cols_out
                         in zip(layer.layers, layer.in_slices, layer.out_slices)])
        else:
            rval.append([Part(layer)])
    return rval


def columns(x, cols):
    """x[:, cols], or x itself for all columns (no Subtensor in the unconditional graphs)."""
    return x if cols == ALL else x[:, cols]


def is_conditional(model):
    """Whether G reads [z | c] and D's generated rows carry c (a ConditionalAdversaryPair)."""
    return isinstance(model.generator, ConditionalGenerator)


def unsupported(model, cost):
    """Why the fused gradients cannot stand in for cost.get_gradients here (empty list: they
    can)."""
    g, d = model.generator.mlp, model.discriminator
    problems = [f"layer {part.layer_name} ({type(part).__name__})"
                for layer in list(g.layers) + list(d.layers) for part in sub_layers(layer)
                if layer_kind(part) is None]
    for name, net in (("generator", g), ("discriminator", d)):
        if not isinstance(net.get_input_space(), VectorSpace):
            problems.append(f"the {name}'s input space {net.get_input_space()!r}")
    last = d.layers[-1]
    if type(last) is not Sigmoid or last.dim != 1:
        problems.append("the discriminator must end in a one-unit Sigmoid")
    if type(g.layers[-1]) is CompositeLayer:
        problems.append("a CompositeLayer as the generator's output layer")
    if is_conditional(model):
        if not isinstance(cost, ConditionalAdversaryCost):
            problems.append("a conditional model with a cost other than ConditionalAdversaryCost")
    elif cost.generator_default_input_include_prob not in (None, 1., 1):
        problems.append("dropout inside the generator")
    if cost.no_drop_in_d_for_g:
        problems.append("no_drop_in_d_for_g")
    if cost.noise_both != 0.:
        problems.append("noise_both")
    if getattr(model, "inferer", None) is not None:
        problems.append("an inference network")
    return problems


# ------------------------------------------------------------------------------------ forward
# Aesara compiles `cond ? x : y` and its `maximum` (which also propagates NaN) to branches, which
# the unpredictable signs of activations make mispredict, so the formulas below are written
# branch-free wherever that gives the same bits (much faster per op; REPRODUCING.md §5 has the
# figures and the command):
# * ReLU with left_slope 0: a * (a > 0) is a for a > 0 and a * 0 = -0 / +0 otherwise, exactly
#   Pylearn2's switch(a > 0, a, 0 * a); its gradient is delta * (out > 0);
# * the maxout max is a chain of switch(piece > m, piece, m), which (fused by Aesara into one
#   loop) vectorises, and equals the maximum for every non-NaN input;
# * routing a unit's gradient to its winning pieces is delta * (piece == max).


def activate(kind, layer, a):
    if kind == "relu":
        if layer.left_slope == 0:
            return a * (a > 0.)
        return at.switch(a > 0., a, layer.left_slope * a)
    if kind == "sigmoid":
        return at.sigmoid(a)
    if kind == "maxout":
        # The max over each unit's adjacent pieces, over strided column slices as Pylearn2 wrote
        # it (a reshape and max(axis=2) was measured slower than the switch chain).
        return maxout_pieces(layer, a)[1]
    return a


def maxout_pieces(layer, a):
    """([the num_pieces strided slices of a], their elementwise maximum)."""
    k = layer.num_pieces
    pieces = [a[:, piece::k] for piece in range(k)]
    out = pieces[0]
    for piece in pieces[1:]:
        out = at.switch(piece > out, piece, out)
    return pieces, out


def activation_backward(kind, layer, a, out, delta):
    """delta (gradient w.r.t. the layer's output) -> gradient w.r.t. its pre-activation a."""
    if kind == "relu":
        if layer.left_slope == 0:
            # On the output, not on a, so that Aesara does not share one boolean array between
            # the forward and backward loops (a separate bool array made both much slower).
            return delta * (out > 0.)
        return at.switch(a > 0., delta, layer.left_slope * delta)
    if kind == "sigmoid":
        return delta * out * (1. - out)
    if kind == "maxout":
        # Each piece that equals the unit's maximum receives the unit's gradient, written into its
        # strided columns (the same routing as the gradient of the maximum chain).
        k = layer.num_pieces
        pieces, _ = maxout_pieces(layer, a)
        routed = at.zeros_like(a)
        for index, piece in enumerate(pieces):
            routed = at.set_subtensor(routed[:, index::k], delta * at.eq(piece, out))
        return routed
    return delta


def mlp_forward(layers, x, scaled_masks=None):
    """Per layer of `layers` (lists of Parts): its input after dropout, and per part its
    pre-activation and output."""
    inputs, pre, outs = [], [], []
    for i, parts in enumerate(layers):
        if scaled_masks is not None and scaled_masks[i] is not None:
            x = x * scaled_masks[i]
        a = [at.dot(columns(x, part.cols_in), part.W) + part.b for part in parts]
        h = [activate(part.kind, part.layer, a_part) for part, a_part in zip(parts, a)]
        inputs.append(x)
        pre.append(a)
        outs.append(h)
        x = h[0] if len(h) == 1 else at.concatenate(h, axis=1)
    return inputs, pre, outs


def parts_backward(parts, pre, outs, delta):
    """Per part, d(its output)/d(its pre-activation) applied to its columns of delta."""
    return [activation_backward(part.kind, part.layer, a, out, columns(delta, part.cols_out))
            for part, a, out in zip(parts, pre, outs)]


def input_gradient(parts, deltas, like):
    """The gradient w.r.t. a layer's input (shaped as `like`) of its parts' pre-activation
    gradients `deltas`."""
    if len(parts) == 1 and parts[0].cols_in == ALL:
        return at.dot(deltas[0], parts[0].W.T)
    grad = at.zeros_like(like)
    for part, delta in zip(parts, deltas):
        grad = at.inc_subtensor(grad[:, part.cols_in], at.dot(delta, part.W.T))
    return grad


# ------------------------------------------------------------------------------------ masks
def draw_stacked_masks(cost, d, X, S, dropout_masks):
    """mask * scale per D layer input for the stacked [X; S] rows (None where dropout is off).

    DRAW takes two fresh MRG streams from D's RandomState, real batch first, exactly as the two
    dropout_fprop calls of AdversaryCost2 do, and draws each stream's masks in layer order with the
    shapes the 2014 graph gives them; fed masks are used as they are.
    """
    plan = cost.discriminator_plan(d)
    if dropout_masks is NO_DROPOUT:
        return [None] * len(plan)
    if dropout_masks is DRAW:
        streams = {"data": d.new_dropout_stream(), "samp": d.new_dropout_stream()}
    widths = [X.shape[1]] + [layer.get_output_space().get_total_dimension()
                             for layer in d.layers[:-1]]
    scaled = []
    for index, (include_prob, scale) in enumerate(plan):
        if include_prob is None:
            scaled.append(None)
            continue
        halves = []
        for key, rows in (("data", X.shape[0]), ("samp", S.shape[0])):
            if dropout_masks is DRAW:
                # A symbolic shape, like the 2014 graph's state.shape: it fixes the number of
                # MRG streams (60 * 256 for any symbolic size) and hence the numbers drawn.
                shape = at.as_tensor_variable([rows, widths[index]])
                halves.append(draw_mask(streams[key], shape, include_prob, X.dtype))
            else:
                halves.append(dropout_masks[key][index])
        mask = at.concatenate(halves, axis=0)
        scaled.append(at.cast(mask * scale, X.dtype))
    return scaled


def draw_generator_masks(cost, g, rows, dropout_masks, dtype):
    """mask * scale per G layer input of the conditional model (None where dropout is off).

    Drawn as ConditionalAdversaryCost.build_objectives draws them (G's MLP.dropout_fprop): one
    fresh MRG stream from G's RandomState, taken only when some G layer has dropout, then each
    active layer's mask in layer order; fed masks ("gen") are used as they are.
    """
    plan = cost.generator_plan(g)
    if dropout_masks is NO_DROPOUT or all(p is None for p, _ in plan):
        return [None] * len(plan)
    if dropout_masks is DRAW:
        stream = g.mlp.new_dropout_stream()
    widths = [layer.get_input_space().get_total_dimension() for layer in g.mlp.layers]
    g_scaled = []
    for index, (include_prob, scale) in enumerate(plan):
        if include_prob is None:
            g_scaled.append(None)
            continue
        if dropout_masks is DRAW:
            mask = draw_mask(stream, at.as_tensor_variable([rows, widths[index]]), include_prob,
                             dtype)
        else:
            mask = dropout_masks["gen"][index]
        g_scaled.append(at.cast(mask * scale, dtype))
    return g_scaled


def draw_mask(stream, shape, include_prob, dtype):
    """MLP.draw_mask for a shape instead of a state (same MRG binomial call)."""
    with quiet_mrg():
        return stream.binomial(p=include_prob, size=shape, dtype=dtype)


# ------------------------------------------------------------------------------------ gradients
def generator_forward(cost, model, X, noise, dropout_masks):
    """(z, G's layer inputs, pre-activations and outputs, its scaled masks, the label columns of X
    or None): the noise and G's masks drawn in the order of the cost's own graph."""
    g = model.generator
    B = X.shape[0]
    if noise is None and dropout_masks is not DRAW:
        raise ValueError("feeding dropout masks (or disabling dropout) needs the noise fed too")
    z = g.get_noise((B, g.noise_dim())) if noise is None else noise
    g_layers = layer_parts(g.mlp.layers)
    if is_conditional(model):
        _x, labels = model.split(X)
        g_scaled = draw_generator_masks(cost, g, B, dropout_masks, X.dtype)
        g_x = at.concatenate([at.cast(z, labels.dtype), labels], axis=1)
    else:
        # Generator.sample_and_noise: the noise block first, then the (mask-free) dropout pass of
        # G's MLP, which still takes one seed from G's RandomState.
        if noise is None:
            g.mlp.new_dropout_stream()
        labels, g_scaled, g_x = None, None, z
    return (z, g_layers) + mlp_forward(g_layers, g_x, g_scaled) + (g_scaled, labels)


def fused_gradients(cost, model, data, noise=None, dropout_masks=DRAW):
    """(grads, updates) equal to cost.get_gradients(model, data, noise, dropout_masks).

    grads: OrderedDict param -> gradient (D's params first, then G's, as AdversaryCost2 orders
    them); updates: now_train_generator's toggle under alternate_g.
    """
    problems = unsupported(model, cost)
    if problems:
        raise ValueError("fused gradients do not support " + "; ".join(problems))
    g, d = model.generator, model.discriminator
    floatx = data.dtype
    X = data
    B = X.shape[0]

    # Generator forward (on [z | c] for the conditional model).
    z, g_layers, g_in, g_pre, g_out, g_scaled, labels = generator_forward(
        cost, model, X, noise, dropout_masks)
    S = g_out[-1][0]
    fake = S if labels is None else at.concatenate([S, labels], axis=1)

    # Discriminator forward on [X; fake].
    d_layers = layer_parts(d.layers)
    scaled = draw_stacked_masks(cost, d, X, fake, dropout_masks)
    XS = at.concatenate([X, fake], axis=0)
    d_in, d_pre, d_out = mlp_forward(d_layers, XS, scaled)
    logits = d_pre[-1][0]                               # (2B, 1)
    sig = at.sigmoid(logits)
    rows = at.cast(B, floatx)
    c_d = at.concatenate([0.5 * (sig[:B] - 1.), 0.5 * sig[B:]], axis=0) / rows
    c_g = (sig[B:] - 1.) / rows
    if cost.generator_objective == "minimax":
        # Not a 2014 option: g_obj = -mean softplus(l_samp), d/dl = -sigmoid(l) / B.
        c_g = -sig[B:] / rows
    if cost.blend_obj:
        zurich, minimax = cost.zurich_coeff, cost.minimax_coeff
        c_g = (zurich * c_g - minimax * c_d[B:]) / (zurich + minimax)

    # Discriminator backward, upstream 1 per row; c_d weights the rows of each parameter gradient.
    d_grads = {}
    last = len(d_layers) - 1
    delta = None
    for i in range(last, -1, -1):
        parts = d_layers[i]
        if i == last:
            deltas_a = [at.ones_like(logits)]           # d logit / d logit
        else:
            deltas_a = parts_backward(parts, d_pre[i], d_out[i], delta)
        for part, delta_a in zip(parts, deltas_a):
            d_grads[part.W] = at.dot((columns(d_in[i], part.cols_in) * c_d).T, delta_a)
            d_grads[part.b] = (delta_a * c_d).sum(axis=0)
        if i > 0:
            delta = input_gradient(parts, deltas_a, d_in[i])
            if scaled[i] is not None:
                delta = delta * scaled[i]
    # dg_obj/dS: the generated rows only, through D's first layer and its mask; of a conditional
    # D's input only the sample columns come from G.
    delta_S = input_gradient(d_layers[0], [delta_a[B:] for delta_a in deltas_a],
                             d_in[0][B:]) * c_g
    if scaled[0] is not None:
        delta_S = delta_S * scaled[0][B:]
    if labels is not None:
        delta_S = delta_S[:, model.discriminator.get_input_space().component_slices()[0]]
    g_scale = None
    if cost.scale_grads:
        norm = at.sqrt(at.square(delta_S).sum())
        g_scale = at.maximum(1., cost.target_scale / norm)

    # Generator backward (through G's masks where it has dropout).
    g_grads = {}
    delta = delta_S
    for i in range(len(g_layers) - 1, -1, -1):
        parts = g_layers[i]
        deltas_a = parts_backward(parts, g_pre[i], g_out[i], delta)
        for part, delta_a in zip(parts, deltas_a):
            g_grads[part.W] = at.dot(columns(g_in[i], part.cols_in).T, delta_a)
            g_grads[part.b] = delta_a.sum(axis=0)
        if i > 0:
            delta = input_gradient(parts, deltas_a, g_in[i])
            if g_scaled is not None and g_scaled[i] is not None:
                delta = delta * g_scaled[i]
    if g_scale is not None:
        g_grads = {param: grad * g_scale for param, grad in g_grads.items()}

    return assemble(cost, d.get_params(), g.get_params(), d_grads, g_grads)


def assemble(cost, d_params, g_params, d_grads, g_grads):
    """AdversaryCost2.gradients_from_objectives' bookkeeping: the now_train switches, the
    ever_train zeros, the alternate_g toggle; D's parameters first."""
    rval = OrderedDict()
    zeros = itertools.repeat(at.constant(0., dtype="float32"))
    if cost.ever_train_discriminator:
        rval.update((p, cost.now_train_discriminator * d_grads[p]) for p in d_params)
    else:
        rval.update(zip(d_params, zeros))
    if cost.ever_train_generator:
        rval.update((p, cost.now_train_generator * g_grads[p]) for p in g_params)
    else:
        rval.update(zip(g_params, zeros))
    updates = OrderedDict()
    if cost.alternate_g:
        updates[cost.now_train_generator] = 1. - cost.now_train_generator
    return rval, updates


# ------------------------------------------------------------------------------------ tests
def evaluate_gradients(model, cost, X, z, masks=None):
    """The fused gradients as arrays (OrderedDict name -> array), like adversarial.evaluate_step's
    `grads`: noise z and masks (None: no dropout) fed, at the current parameters; for the
    conditional model masks also holds "gen", G's masks as conditional_gan.evaluate_step takes
    them. For the tests."""
    import aesara
    import numpy as np

    from legacy_aesara.adversarial import mask_arguments, mask_inputs
    from legacy_aesara.conditional_gan import generator_mask_inputs

    conditional = is_conditional(model)
    key = ("fused", id(model), masks is not None)
    if key not in cost._evaluate_functions:
        X_var, z_var = at.matrix("X"), at.matrix("z")
        fed, active = (mask_inputs(model.discriminator, cost) if masks is not None
                       else (NO_DROPOUT, []))
        inputs = [X_var, z_var] + [fed[half][i] for half in ("data", "samp") for i in active]
        g_active = []
        if conditional and masks is not None:
            fed["gen"], g_active = generator_mask_inputs(model, cost)
            inputs += [fed["gen"][i] for i in g_active]
        grads, _updates = fused_gradients(cost, model, X_var, noise=z_var, dropout_masks=fed)
        names = OrderedDict(model.named_params())
        function = aesara.function(inputs, [grads[param] for param in names.values()],
                                   name="fused_gradients", on_unused_input="ignore")
        cost._evaluate_functions[key] = (function, list(names.keys()), active, g_active)
    function, names, active, g_active = cost._evaluate_functions[key]
    floatx = aesara.config.floatX
    args = [np.asarray(X, dtype=floatx), np.asarray(z, dtype=floatx if conditional else "float32")]
    if masks is not None:
        args += mask_arguments(masks, active, floatx)
        args += [np.asarray(masks["gen"][i], dtype=floatx) for i in g_active]
    return OrderedDict(zip(names, (np.asarray(value) for value in function(*args))))

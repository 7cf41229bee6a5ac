"""pylearn2/models/mlp.py :: CompositeLayer for the torch port: parallel sub-layers on the parts
of a CompositeSpace input, their outputs joined side by side.

Used by the conditional model's first layers: G's h0 runs the noise through one rectifier layer and
the one-hot label through another; D's h0 runs the image and the label through two maxout layers.
`inputs_to_layers` maps input component index -> [sub-layer indices] as in Pylearn2; here each
sub-layer must receive exactly one component (all the conditional model needs). The output is the
sub-layers' outputs joined column-wise (Pylearn2's CompositeSpace output formatted as a vector,
which is how the next dense layer read it), described by a CompositeSpace.

The sub-layers' parameters are named `<composite>_<sub-layer>_W/_b` (`h0_z_W`): the composite's
name keeps them apart from the MLP's other layers (G's sub-layer `y` would otherwise clash with
G's output layer `y`). legacy_aesara/models/composite.py is the same layer in Aesara.
"""
from collections import OrderedDict

import torch
from torch import nn

from gan2014.composite_space import (CompositeSpace, check_sub_layers, column_slices,
                                     route_components)
from port_torch.space import as_space


class CompositeLayer(nn.Module):
    """CompositeLayer(layer_name, layers, inputs_to_layers)."""

    kind = "composite"   # not a kind the fused step knows: models with it train by autograd

    def __init__(self, layer_name, layers, inputs_to_layers=None):
        super().__init__()
        check_sub_layers(layer_name, layers)
        self.layer_name = layer_name
        self.parts = nn.ModuleList(layers)
        self.inputs_to_layers = inputs_to_layers
        self.param_suffixes, self.lr_scales = (), {}

    def set_input_space(self, rng, space):
        """Each sub-layer draws its weights from the MLP's RandomState, in sub-layer order."""
        self.input_space, self.sources = route_components(self.layer_name, as_space(space),
                                                          len(self.parts), self.inputs_to_layers)
        slices = self.input_space.component_slices()
        self.in_slices = [slices[source] for source in self.sources]
        for part, source in zip(self.parts, self.sources):
            part.set_input_space(rng, self.input_space.components[source])
        self.output_space = CompositeSpace([part.output_space for part in self.parts])
        self.out_slices = self.output_space.component_slices()
        self.pre_slices = column_slices([part.output_width() for part in self.parts])
        # The MLP and the SGD read a layer's parameter list through these two attributes.
        names = [(f"{part.layer_name}_{suffix}", part, suffix) for part in self.parts
                 for suffix in part.param_suffixes]
        self.param_suffixes = tuple(name for name, _, _ in names)
        self.lr_scales = {name: part.lr_scales[suffix] for name, part, suffix in names}

    def named_pylearn2_params(self, stem):
        for part in self.parts:
            for suffix in part.param_suffixes:
                yield f"{stem}_{part.layer_name}_{suffix}", getattr(part, suffix)

    def affine(self, x):
        """The sub-layers' pre-activations joined (each on its own input columns)."""
        return torch.cat([part.affine(x[:, cols]) for part, cols in
                          zip(self.parts, self.in_slices)], dim=1)

    def activate(self, a):
        return torch.cat([part.activate(a[:, cols]) for part, cols in
                          zip(self.parts, self.pre_slices)], dim=1)

    def forward(self, x):
        return self.activate(self.affine(x))

    @torch.no_grad()
    def constrain_(self):
        for part in self.parts:
            part.constrain_()

    def has_constraint(self):
        return any(part.has_constraint() for part in self.parts)

    @torch.no_grad()
    def monitoring_channels(self, state):
        """Each sub-layer's channels on its part of the output, prefixed with its name."""
        channels = OrderedDict()
        for part, cols in zip(self.parts, self.out_slices):
            for key, value in part.monitoring_channels(state[:, cols]).items():
                channels[f"{part.layer_name}_{key}"] = value
        return channels


"""pylearn2/models/mlp.py :: CompositeLayer as an Aesara layer: parallel sub-layers on the parts of
a CompositeSpace input, their outputs joined side by side.

Mirrors port_torch/models/composite.py, which says why it exists and how it departs from Pylearn2
(one input component per sub-layer; the output joined column-wise). The sub-layers' parameters are
renamed `<composite>_<sub-layer>_W/_b`, the names the torch port gives them.
"""
from collections import OrderedDict

import aesara.tensor as at

from gan2014.composite_space import (CompositeSpace, check_sub_layers, column_slices,
                                     route_components)
from legacy_aesara.models.mlp import Layer


class CompositeLayer(Layer):
    """CompositeLayer(layer_name, layers, inputs_to_layers)."""

    def __init__(self, layer_name, layers, inputs_to_layers=None):
        check_sub_layers(layer_name, layers)
        if not all(isinstance(layer, Layer) for layer in layers):
            raise TypeError(f"CompositeLayer {layer_name!r}: every sub-layer must be a Layer")
        self.layer_name = layer_name
        self.layers = list(layers)
        self.inputs_to_layers = inputs_to_layers

    def set_mlp(self, mlp):
        super().set_mlp(mlp)
        for layer in self.layers:   # the sub-layers draw their weights from the MLP's rng
            layer.set_mlp(mlp)

    def set_input_space(self, space):
        """Each sub-layer draws its weights from the MLP's RandomState, in sub-layer order."""
        self.input_space, sources = route_components(self.layer_name, space, len(self.layers),
                                                     self.inputs_to_layers)
        slices = space.component_slices()
        self.in_slices = [slices[source] for source in sources]
        for layer, source in zip(self.layers, sources):
            layer.set_input_space(space.components[source])
            for param in layer.get_params():
                param.name = f"{self.layer_name}_{param.name}"
        self.output_space = CompositeSpace([layer.get_output_space() for layer in self.layers])
        self.out_slices = column_slices(space.get_total_dimension()
                                        for space in self.output_space.components)

    def get_params(self):
        return [param for layer in self.layers for param in layer.get_params()]

    def get_lr_scalers(self):
        rval = OrderedDict()
        for layer in self.layers:
            rval.update(layer.get_lr_scalers())
        return rval

    def _modify_updates(self, updates):
        for layer in self.layers:
            layer.modify_updates(updates)

    def fprop(self, state_below):
        return at.concatenate([layer.fprop(state_below[:, cols])
                               for layer, cols in zip(self.layers, self.in_slices)], axis=1)

    def get_layer_monitoring_channels(self, state_below=None, state=None, targets=None):
        """Each sub-layer's channels on its part of the input and output, prefixed with its name."""
        rval = OrderedDict()
        for layer, cols_in, cols_out in zip(self.layers, self.in_slices, self.out_slices):
            below = None if state_below is None else state_below[:, cols_in]
            mine = None if state is None else state[:, cols_out]
            for key, value in layer.get_layer_monitoring_channels(below, mine).items():
                rval[f"{layer.layer_name}_{key}"] = value
        return rval

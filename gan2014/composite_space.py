"""pylearn2/space/__init__.py :: CompositeSpace, for inputs made of several vectors side by side.

The conditional model's networks take two inputs: G takes (noise z, one-hot label c) and D takes
(image x, one-hot label c). Pylearn2 described such an input with a CompositeSpace and served its
batches as tuples. Here a batch of a CompositeSpace of vector components is ONE matrix whose
columns are the components' columns in order -- the matrix Pylearn2's
``CompositeSpace.format_as(batch, VectorSpace)`` produced. The class is therefore a VectorSpace of
the total width that also knows where each component's columns are; every batch, mask and
formatter that handles a VectorSpace handles it unchanged, and a CompositeLayer
(models/composite.py of each backend) sends each component to its own sub-layer.
"""
from gan2014.space import VectorSpace

__all__ = ["CompositeSpace", "check_sub_layers", "check_two_parts", "column_slices",
           "route_components", "split_columns"]


class CompositeSpace(VectorSpace):
    """CompositeSpace(components): vector components joined column-wise into one batch matrix."""

    def __init__(self, components, dtype="floatX"):
        components = list(components or [])
        if not components:
            raise ValueError("CompositeSpace: `components` must list at least one space")
        for index, space in enumerate(components):
            if not isinstance(space, VectorSpace):
                raise NotImplementedError(
                    f"CompositeSpace: component {index} is {space!r}; only vector components "
                    "(VectorSpace, or a CompositeSpace of them) are supported")
        super().__init__(sum(space.get_total_dimension() for space in components), dtype=dtype)
        self.components = components

    def component_slices(self):
        """The column range of each component in a batch row, in component order."""
        slices, start = [], 0
        for space in self.components:
            stop = start + space.get_total_dimension()
            slices.append(slice(start, stop))
            start = stop
        return slices

    def __eq__(self, other):
        return isinstance(other, CompositeSpace) and other.components == self.components

    def __hash__(self):
        return hash(("CompositeSpace", tuple(self.components)))

    def __repr__(self):
        return f"CompositeSpace({self.components!r})"


def check_two_parts(owner, space):
    """The width of the second component of a two-component CompositeSpace (the conditional
    model's [data | label] and [noise | label] inputs: the number of classes); `owner` names the
    object in the error."""
    if not isinstance(space, CompositeSpace) or len(space.components) != 2:
        raise ValueError(f"{owner}: the input space must be CompositeSpace([data, label]), "
                         f"got {space!r}")
    return space.components[1].get_total_dimension()


def split_columns(space, batch):
    """(first component, last component) of a batch (any array or tensor with column slicing) of a
    two-component CompositeSpace."""
    first, last = space.component_slices()
    return batch[:, first], batch[:, last]


def column_slices(widths):
    """Consecutive column ranges of the given widths."""
    slices, start = [], 0
    for width in widths:
        slices.append(slice(start, start + int(width)))
        start += int(width)
    return slices


def check_sub_layers(layer_name, layers):
    """A CompositeLayer needs at least one sub-layer, with distinct names."""
    names = [getattr(layer, "layer_name", None) for layer in layers or []]
    if not names or None in names or len(set(names)) != len(names):
        raise ValueError(f"CompositeLayer {layer_name!r}: needs named sub-layers with distinct "
                         f"names, got {names}")


def route_components(layer_name, space, n_layers, inputs_to_layers):
    """(space, [input component read by each sub-layer]) from Pylearn2's `inputs_to_layers`
    ({component index: [sub-layer indices]}); each sub-layer must read exactly one component."""
    if not isinstance(space, CompositeSpace):
        raise ValueError(f"CompositeLayer {layer_name!r}: its input space must be a "
                         f"CompositeSpace, got {space!r}")
    if inputs_to_layers is None:
        raise NotImplementedError(f"CompositeLayer {layer_name!r}: give inputs_to_layers (every "
                                  "sub-layer reading the whole input is not implemented)")
    source = {}
    for component, layers in dict(inputs_to_layers).items():
        if not 0 <= int(component) < len(space.components):
            raise ValueError(f"CompositeLayer {layer_name!r}: inputs_to_layers names input "
                             f"{component}, but the input has {len(space.components)} components")
        for index in layers:
            if not 0 <= int(index) < n_layers or int(index) in source:
                raise ValueError(f"CompositeLayer {layer_name!r}: inputs_to_layers sends input "
                                 f"{component} to sub-layer {index}, which is absent or already "
                                 "fed (one input per sub-layer)")
            source[int(index)] = int(component)
    missing = [index for index in range(n_layers) if index not in source]
    if missing:
        raise ValueError(f"CompositeLayer {layer_name!r}: sub-layer(s) {missing} get no input")
    return space, [source[index] for index in range(n_layers)]

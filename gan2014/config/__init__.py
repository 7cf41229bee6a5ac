"""Pylearn2-compatible YAML configuration: the safe loader and the registry of original names.

``yaml_parse`` mirrors ``pylearn2/config/yaml_parse.py``; ``registry`` lists the dotted names the
2014 configs use and builds a backend's name -> callable dict.
"""
from gan2014.config.yaml_parse import (
    ObjectProxy,
    PickleProxy,
    YAMLConfigError,
    load,
    load_path,
    preprocess,
    train_file_variables,
)

__all__ = [
    "ObjectProxy",
    "PickleProxy",
    "YAMLConfigError",
    "load",
    "load_path",
    "preprocess",
    "train_file_variables",
]

"""``save_grid``: samples (rows of pixel values in [0, 1]) tiled into one PNG, with pillow only.

Used by the Python API of both backends (``port_torch.api.save_grid``, ``legacy_aesara.api``); the
paper's figures, with their layout and neighbour column, come from ``python -m <backend>.figures``.
"""
import math
from pathlib import Path

import numpy as np


def tile(images, shape=(28, 28), cols=None, padding=2, scale=1):
    """An (H, W) or (H, W, 3) uint8 array: ``images`` (N x prod(shape), values in [0, 1], clipped)
    laid out row by row, ``cols`` per row (default: the smallest square that holds them), on a
    black background with ``padding`` pixels around every tile, each pixel repeated ``scale``
    times in both directions (no smoothing)."""
    images = np.asarray(images, dtype=np.float64)
    shape = tuple(int(n) for n in shape)
    count = images.shape[0]
    if count == 0:
        raise ValueError("save_grid: no images")
    images = images.reshape((count,) + shape)
    cols = int(cols) if cols else math.ceil(math.sqrt(count))
    rows = math.ceil(count / cols)
    height, width = shape[0] * scale, shape[1] * scale
    grid = np.zeros((padding + rows * (height + padding), padding + cols * (width + padding))
                    + shape[2:], dtype=np.uint8)
    levels = np.rint(np.clip(images, 0.0, 1.0) * 255.0).astype(np.uint8)
    for index in range(count):
        row, col = divmod(index, cols)
        top, left = padding + row * (height + padding), padding + col * (width + padding)
        picture = levels[index].repeat(scale, axis=0).repeat(scale, axis=1)
        grid[top:top + height, left:left + width] = picture
    return grid


def save_grid(images, path, shape=(28, 28), cols=None, padding=2, scale=1):
    """Write :func:`tile` of ``images`` to ``path`` (PNG); returns the path."""
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(tile(images, shape, cols, padding, scale)).save(path)
    return path

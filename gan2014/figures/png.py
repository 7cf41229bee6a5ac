"""A tiny plotting layer on Pillow: a canvas, axes with ticks, polylines, dashes, dots, arrows,
labels and a legend. Enough for the toy figures; nothing more.

Everything is drawn ``SCALE`` times larger and shrunk with a Lanczos filter when saved, because Pillow
draws lines without anti-aliasing; the shrink smooths the edges. Coordinates passed in are always in
the final image's pixels. Text uses Pillow's default font (a scalable one since Pillow 10.1; older
Pillows fall back to the fixed-size bitmap font, which is small but readable).
"""
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFont

SCALE = 2
BLACK = (0, 0, 0)
GREY = (120, 120, 120)
LIGHT_GREY = (225, 225, 225)
GREEN = (0, 150, 0)
BLUE = (20, 60, 220)
RED = (200, 30, 30)


class Canvas:
    def __init__(self, width, height, background=(255, 255, 255)):
        self.width, self.height = width, height
        self.image = Image.new("RGB", (width * SCALE, height * SCALE), background)
        self.draw = ImageDraw.Draw(self.image)
        self._fonts = {}

    # -- fonts and text --
    def font(self, size):
        if size not in self._fonts:
            try:
                self._fonts[size] = ImageFont.load_default(size=size * SCALE)
            except TypeError:                  # Pillow < 10.1: bitmap font, one size only
                self._fonts[size] = ImageFont.load_default()
        return self._fonts[size]

    def text_size(self, text, size=14):
        left, top, right, bottom = self.draw.textbbox((0, 0), text, font=self.font(size))
        return (right - left) / SCALE, (bottom - top) / SCALE

    def text(self, xy, text, size=14, color=BLACK, anchor="lt"):
        """Draw ``text`` with its box anchored at ``xy``: anchor is horizontal (l, m, r) then
        vertical (t, m, b). Anchoring is done by measuring, which works for bitmap fonts too."""
        font = self.font(size)
        left, top, right, bottom = self.draw.textbbox((0, 0), text, font=font)
        x, y = xy[0] * SCALE, xy[1] * SCALE
        x -= {"l": 0.0, "m": 0.5, "r": 1.0}[anchor[0]] * (right - left) + left
        y -= {"t": 0.0, "m": 0.5, "b": 1.0}[anchor[1]] * (bottom - top) + top
        self.draw.text((x, y), text, font=font, fill=color)

    def text_vertical(self, xy, text, size=14, color=BLACK):
        """Text rotated a quarter turn (reading upwards), centred on ``xy``: for y-axis labels."""
        font = self.font(size)
        left, top, right, bottom = self.draw.textbbox((0, 0), text, font=font)
        tile = Image.new("L", (right - left + 4, bottom - top + 4), 0)
        ImageDraw.Draw(tile).text((2 - left, 2 - top), text, font=font, fill=255)
        tile = tile.rotate(90, expand=True)
        corner = (int(xy[0] * SCALE - tile.width / 2), int(xy[1] * SCALE - tile.height / 2))
        self.image.paste(Image.new("RGB", tile.size, color), corner, tile)

    # -- shapes (final-pixel coordinates) --
    def line(self, points, color=BLACK, width=2.0, dash=None):
        """A polyline through ``points`` (a sequence of (x, y)); ``dash`` = (on, off) in pixels."""
        pts = [(float(x) * SCALE, float(y) * SCALE) for x, y in points]
        if len(pts) < 2:
            return
        pieces = [pts] if dash is None else _dash(pts, dash[0] * SCALE, dash[1] * SCALE)
        for piece in pieces:
            self.draw.line(piece, fill=color, width=max(1, round(width * SCALE)), joint="curve")

    def dot(self, xy, radius=2.5, color=BLACK, edge=None):
        """A filled circle; with ``edge``, a ring of that colour around it (dots drawn on top of a
        line of the same colour stay visible)."""
        x, y, r = xy[0] * SCALE, xy[1] * SCALE, radius * SCALE
        outline = None if edge is None else edge
        self.draw.ellipse((x - r, y - r, x + r, y + r), fill=color, outline=outline,
                          width=0 if edge is None else SCALE)

    def arrow(self, start, end, color=GREY, width=1.2, head=7.0):
        """A straight arrow from ``start`` to ``end`` with a filled triangular head at ``end``."""
        (x0, y0), (x1, y1) = start, end
        length = math.hypot(x1 - x0, y1 - y0)
        if length < 1e-9:
            return
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        base = (x1 - head * ux, y1 - head * uy)
        self.line([start, base], color, width)
        half = 0.45 * head
        tri = [(x1, y1), (base[0] - half * uy, base[1] + half * ux), (base[0] + half * uy, base[1] - half * ux)]
        self.draw.polygon([(x * SCALE, y * SCALE) for x, y in tri], fill=color)

    def save(self, path):
        self.image.resize((self.width, self.height), Image.LANCZOS).save(path, "PNG")


def _dash(points, on, off):
    """Cut a polyline into the 'on' pieces of a dash pattern, carrying the phase across vertices
    (so dashes stay even on a finely sampled curve)."""
    pieces, current = [], [points[0]]
    drawing, left = True, on
    for (x0, y0), (x1, y1) in zip(points[:-1], points[1:]):
        seg = math.hypot(x1 - x0, y1 - y0)
        pos = 0.0
        while seg - pos > left:
            pos += left
            p = (x0 + (x1 - x0) * pos / seg, y0 + (y1 - y0) * pos / seg)
            if drawing:
                current.append(p)
                pieces.append(current)
            else:
                current = [p]
            drawing, left = not drawing, (off if drawing else on)
        left -= seg - pos
        if drawing:
            current.append((x1, y1))
    if drawing and len(current) > 1:
        pieces.append(current)
    return pieces


class Axes:
    """Maps data coordinates into a pixel box ``(left, top, right, bottom)`` of a canvas.

    A log axis is a linear axis on log10 of the data (pass the limits in data units). Lines are clipped
    to the y range by clamping and to the x range by dropping points, which is all these figures need."""

    def __init__(self, canvas, box, xlim, ylim, xlog=False, ylog=False):
        self.canvas, self.box = canvas, box
        self.xlog, self.ylog = xlog, ylog
        self.xlim = tuple(self._tx(np.asarray(xlim, dtype=float)))
        self.ylim = tuple(self._ty(np.asarray(ylim, dtype=float)))

    def _tx(self, x):
        return np.log10(x) if self.xlog else x

    def _ty(self, y):
        return np.log10(y) if self.ylog else y

    def px(self, x):
        left, _, right, _ = self.box
        return left + (self._tx(np.asarray(x, dtype=float)) - self.xlim[0]) / (self.xlim[1] - self.xlim[0]) * (right - left)

    def py(self, y):
        _, top, _, bottom = self.box
        return bottom - (self._ty(np.asarray(y, dtype=float)) - self.ylim[0]) / (self.ylim[1] - self.ylim[0]) * (bottom - top)

    def _inside_x(self, x):
        tx = self._tx(np.asarray(x, dtype=float))
        return (tx >= self.xlim[0] - 1e-12) & (tx <= self.xlim[1] + 1e-12)

    # -- data --
    def plot(self, x, y, color=BLACK, width=2.0, dash=None):
        keep = self._inside_x(x)
        xs, ys = self.px(np.asarray(x)[keep]), self.py(np.asarray(y)[keep])
        _, top, _, bottom = self.box
        ys = np.clip(ys, top, bottom)
        self.canvas.line(list(zip(xs, ys)), color, width, dash)

    def scatter(self, x, y, color=BLACK, radius=2.5, edge=None):
        _, top, _, bottom = self.box
        for px, py in zip(self.px(x), self.py(y)):
            if self.box[0] - 0.5 <= px <= self.box[2] + 0.5 and top - 0.5 <= py <= bottom + 0.5:
                self.canvas.dot((px, py), radius, color, edge)

    def hline(self, y, color=LIGHT_GREY, width=1.0, dash=None):
        py = float(self.py(y))
        self.canvas.line([(self.box[0], py), (self.box[2], py)], color, width, dash)

    # -- decoration --
    def frame(self, title=None, xlabel=None, ylabel=None, xticks=(), yticks=(), fmt="{:g}",
              left_spine=True, font=14):
        left, top, right, bottom = self.box
        c = self.canvas
        c.line([(left, bottom), (right, bottom)], BLACK, 1.5)
        if left_spine:
            c.line([(left, top), (left, bottom)], BLACK, 1.5)
        for t in xticks:
            x = float(self.px(t))
            c.line([(x, bottom), (x, bottom + 5)], BLACK, 1.2)
            c.text((x, bottom + 8), _label(t, fmt, self.xlog), font - 2, anchor="mt")
        for t in yticks:
            y = float(self.py(t))
            c.line([(left - 5, y), (left, y)], BLACK, 1.2)
            c.text((left - 8, y), _label(t, fmt, self.ylog), font - 2, anchor="rm")
        if title:
            c.text((0.5 * (left + right), top - 10), title, font + 1, anchor="mb")
        if xlabel:
            c.text((0.5 * (left + right), bottom + 30), xlabel, font, anchor="mt")
        if ylabel:
            c.text_vertical((left - 58, 0.5 * (top + bottom)), ylabel, font)

    def legend(self, entries, corner="tr", font=13, at=None):
        """``entries``: (label, kind, color), kind as in :func:`draw_swatch`. The box goes in a
        ``corner`` ('tr', 'bl', ...) or, with ``at`` = (fx, fy), with its top-left corner at that
        fraction of the axes box."""
        c = self.canvas
        pad, swatch, row = 8, 34, font + 8
        width = pad * 3 + swatch + max(c.text_size(label, font)[0] for label, _, _ in entries)
        height = pad * 2 + row * len(entries) - 6
        left, top, right, bottom = self.box
        x0 = right - width - 6 if corner[1] == "r" else left + 6
        y0 = top + 6 if corner[0] == "t" else bottom - height - 6
        if at is not None:
            x0, y0 = left + at[0] * (right - left), top + at[1] * (bottom - top)
        c.draw.rectangle([x0 * SCALE, y0 * SCALE, (x0 + width) * SCALE, (y0 + height) * SCALE],
                         fill=(255, 255, 255), outline=(160, 160, 160), width=SCALE)
        for i, (label, kind, color) in enumerate(entries):
            y = y0 + pad + row * i + font / 2
            draw_swatch(c, (x0 + pad, y), swatch, kind, color)
            c.text((x0 + 2 * pad + swatch, y), label, font, anchor="lm")


def draw_swatch(canvas, xy, length, kind, color):
    """A legend sample: 'line', 'dash', 'dots', 'rings' (dots with a black edge), 'arrow', or
    'text' (nothing: the entry is a note)."""
    x, y = xy
    if kind == "line":
        canvas.line([(x, y), (x + length, y)], color, 2.5)
    elif kind == "dash":
        canvas.line([(x, y), (x + length, y)], color, 2.5, dash=(6, 4))
    elif kind == "dots":
        for i in range(4):
            canvas.dot((x + 3 + i * (length - 6) / 3, y), 2.5, color)
    elif kind == "rings":
        for i in range(3):
            canvas.dot((x + 5 + i * (length - 10) / 2, y), 3.4, color, BLACK)
    elif kind == "arrow":
        canvas.arrow((x, y), (x + length, y), color)
    elif kind == "text":
        pass
    else:
        raise ValueError(f"unknown legend kind {kind!r}")


def _label(value, fmt, log):
    if log:
        exponent = math.log10(value)
        if abs(exponent - round(exponent)) < 1e-9:
            return "1" if round(exponent) == 0 else f"1e{round(exponent)}"
    return fmt.format(value)

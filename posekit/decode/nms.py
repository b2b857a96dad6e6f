"""Decode stage, the local-maximum rule and sub-pixel refinement, on maps (N, Y, X).

Plateaus: a pixel is a local maximum when it is >= its neighbours that follow it in raster
order (``AFTER``) and > those that precede it (``BEFORE``), so a flat top gives one peak.

Refinement (:class:`Refinement`, on maps at image resolution): ``"quadratic"`` takes the
vertex of the parabola through the maximum and its two neighbours along each axis;
``"centroid"`` (OpenPose's) the score-weighted centroid of the ``(2 r + 1)^2`` window
around it (positive values only); ``"none"`` keeps the pixel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["Refine", "Refinement", "local_maxima", "where", "BEFORE", "AFTER"]

Refine = Literal["quadratic", "centroid", "none"]

# the 8 neighbours: those preceding a pixel in raster order must be strictly lower
BEFORE = ((-1, -1), (-1, 0), (-1, 1), (0, -1))
AFTER = ((0, 1), (1, -1), (1, 0), (1, 1))


def local_maxima(values: np.ndarray, *, strict_ties: bool = True) -> np.ndarray:
    """Bool mask of 3x3 local maxima over the last two axes of ``values`` (..., Y, X).

    Outside the array counts as minus infinity. ``strict_ties`` applies the raster-order
    plateau rule (module docstring); without it every pixel of a plateau is kept.
    """
    ny, nx = values.shape[-2:]
    out = np.ones(values.shape, dtype=bool)
    for dy, dx in BEFORE + AFTER:
        # the pixels whose neighbour (dy, dx) is inside the array, and those neighbours
        here = (..., slice(max(-dy, 0), ny - max(dy, 0)), slice(max(-dx, 0), nx - max(dx, 0)))
        there = (..., slice(max(dy, 0), ny + min(dy, 0)), slice(max(dx, 0), nx + min(dx, 0)))
        strict = strict_ties and (dy, dx) in BEFORE
        out[here] &= (np.greater if strict else np.greater_equal)(values[here], values[there])
    return out


def where(mask: np.ndarray) -> tuple[np.ndarray, ...]:
    """``np.nonzero(mask)`` (much faster through the flat index for few hits)."""
    return np.unravel_index(np.flatnonzero(mask), mask.shape)


@dataclass(frozen=True)
class Refinement:
    """Sub-pixel refinement of maxima found on maps at image resolution."""

    method: Refine
    radius: int

    @property
    def margin(self) -> int:
        """Pixels needed around a maximum (at least 1, for the NMS test)."""
        return max(self.radius, 1) if self.method == "centroid" else 1

    def __call__(self, values: np.ndarray, n: np.ndarray, a: np.ndarray,
                 b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Offsets (dy, dx) of the maxima ``values[n, a, b]``; ``values`` (N, Y, X) holds
        ``margin`` pixels around each, minus infinity outside the image."""
        if self.method == "none" or len(n) == 0:
            return np.zeros(len(n)), np.zeros(len(n))
        if self.method == "quadratic":
            return self._quadratic(values, n, a, b)
        off = np.arange(-self.radius, self.radius + 1)
        win = values[n[:, None, None], a[:, None, None] + off[None, :, None],
                     b[:, None, None] + off[None, None, :]]
        weight = np.maximum(win, 0.0)
        total = weight.sum(axis=(1, 2))
        total = np.where(total > 0, total, 1.0)
        dy = (weight * off[None, :, None]).sum(axis=(1, 2)) / total
        dx = (weight * off[None, None, :]).sum(axis=(1, 2)) / total
        return dy, dx

    @staticmethod
    def _quadratic(values: np.ndarray, n: np.ndarray, a: np.ndarray,
                   b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Vertex of the parabola through each maximum and its two neighbours, per axis."""
        flat, (_, ny, nx) = values.reshape(-1), values.shape
        at = (n * ny + a) * nx + b
        centre = flat[at].astype(np.float64)
        out = []
        for step in (nx, 1):
            before, after = flat[at - step], flat[at + step]
            with np.errstate(invalid="ignore"):  # (-inf - -inf outside the image)
                curve = before - 2.0 * centre + after
                ok = np.isfinite(before) & np.isfinite(after) & (curve < 0)
                d = np.where(ok, 0.5 * (before - after) / np.where(ok, curve, -1.0), 0.0)
            out.append(np.clip(d, -0.5, 0.5))
        return out[0], out[1]

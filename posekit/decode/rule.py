"""Decode stage, the limb rule: when a candidate pair's PAF samples make it a limb.

A pair of candidates ``a``, ``b`` (image pixels, ``d = b - a``) is read at ``n`` samples
(:func:`sample_counts`), each the PAF dotted with ``d / |d|``; :class:`LimbScoring` holds
the thresholds and which variant of the rule applies. :mod:`posekit.decode.limbs` reads
the samples, fast, for every pair of every limb.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from posekit.errors import PosekitError

__all__ = ["Ends", "Spacing", "ScoreMode", "LimbScoring", "sample_counts"]

Ends = Literal["count", "skip"]
Spacing = Literal["both-ends", "openpose"]
ScoreMode = Literal["mean", "mean-above"]


@dataclass(frozen=True)
class LimbScoring:
    """How candidate pairs are scored (module docstring). The defaults are OpenPose's
    thresholds; ``ends``, ``spacing`` and ``score`` choose between the rule variants:

    - ``ends="count"``: the end samples count in the fraction test like the others
      (OpenPose); ``"skip"``: they do not (n - 2 samples are tested), since they sit on
      the candidates, where a field drawn between the joints ends or a peak found a
      pixel beyond the joint reads nothing.
    - ``spacing="both-ends"``: samples from ``a`` to ``b``, both included (OpenPose's
      Python demo); ``"openpose"``: ``a + k d / n`` for k < n (OpenPose C++: ``b`` is
      never read).
    - ``score="mean"``: mean of all samples; ``"mean-above"``: mean of the samples above
      the threshold only (OpenPose C++).
    """

    sample_threshold: float = 0.05
    min_above: float = 0.95
    min_samples: int = 5
    max_samples: int = 25
    density: float = 5.0
    prior: float | None = 0.5
    min_score: float = 0.0
    ends: Ends = "count"
    spacing: Spacing = "both-ends"
    score: ScoreMode = "mean"

    def __post_init__(self) -> None:
        if not 1 < int(self.min_samples) <= int(self.max_samples):
            raise PosekitError(
                f"need 2 <= min_samples <= max_samples, got {self.min_samples} and "
                f"{self.max_samples}")
        if self.ends not in ("count", "skip"):
            raise PosekitError(f"ends must be 'count' or 'skip', got {self.ends!r}")
        if self.ends == "skip" and int(self.min_samples) < 3:
            raise PosekitError(f"ends='skip' needs min_samples >= 3 (one sample to test "
                               f"besides the two ends), got {self.min_samples}")
        if self.spacing not in ("both-ends", "openpose"):
            raise PosekitError(f"spacing must be 'both-ends' or 'openpose', "
                               f"got {self.spacing!r}")
        if self.score not in ("mean", "mean-above"):
            raise PosekitError(f"score must be 'mean' or 'mean-above', got {self.score!r}")
        if not 0.0 <= self.min_above <= 1.0:
            raise PosekitError(f"min_above is a fraction in [0, 1], got {self.min_above}")
        if not self.density > 0:
            raise PosekitError(f"sample density must be positive, got {self.density}")

    def tested(self, n: np.ndarray) -> np.ndarray:
        """How many of a pair's ``n`` samples the fraction test counts."""
        return n - 2 if self.ends == "skip" else n

    def allowed(self, n: np.ndarray) -> np.ndarray:
        """How many tested samples of a pair of ``n`` may fail: accepted needs more than
        ``min_above * m`` of the m tested samples above the threshold."""
        m = self.tested(n)
        return m - np.floor(self.min_above * m).astype(np.intp) - 1


def sample_counts(dx: np.ndarray, dy: np.ndarray, rule: LimbScoring = LimbScoring()) -> np.ndarray:
    """Number of samples for limbs spanning ``(dx, dy)`` image pixels (module docstring)."""
    n = np.asarray(np.maximum(np.abs(dx), np.abs(dy)), dtype=np.float64)  # (new: changed in place)
    n *= rule.density
    np.sqrt(n, out=n)
    n += 0.5
    np.floor(n, out=n)
    np.maximum(n, rule.min_samples, out=n)
    np.minimum(n, rule.max_samples, out=n)
    return n.astype(np.intp)

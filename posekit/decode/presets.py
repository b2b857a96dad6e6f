"""Decode presets: named settings of decoding and of the post-rules, for every parser.

- ``posekit`` (the default): the limb rule that does not hinge on the end samples and the
  fragment stage (:mod:`posekit.parsers.fragments`), chosen by measurement on real poses
  (docs/compare-parsers.md).
- ``openpose``: OpenPose C++'s rules exactly, for parity (facts from OpenPose's sources:
  ``poseParameters.cpp`` defaults for the non-MPI models, ``bodyPartConnectorBase.cpp``
  and ``nmsBase.cpp``):

  - peaks: heatmaps upsampled to the image (cubic), NMS threshold 0.05, a peak refined
    to the score-weighted centroid of the 7 x 7 pixels around it, at most 127 per part;
  - limbs: ``n = max(5, min(25, round(sqrt(5 * max(|dx|, |dy|)))))`` samples at
    ``a + k d / n`` for k = 0 .. n-1 (the second candidate is never read), each read at
    the nearest pixel of the upsampled PAFs; a sample counts when (PAF . unit vector) >
    0.05; a pair is accepted when more than 95 % of its n samples count, and scores the
    mean of the samples that count; no distance prior;
  - people: at least 3 parts and a mean score of at least 0.4; no fragment stage.

  (OpenPose's MPI models use an NMS threshold of 0.6 and a PAF threshold of 0.01; pass
  them as options on top of the preset.)
"""

from __future__ import annotations

from dataclasses import dataclass

from posekit.decode import DecodeConfig
from posekit.errors import PosekitError
from posekit.parsers.base import PostRules

__all__ = ["DecodePreset", "PRESETS", "decode_preset"]


@dataclass(frozen=True)
class DecodePreset:
    """Decoding settings and the post-rules every parser applies with them."""

    name: str
    config: DecodeConfig
    rules: PostRules
    summary: str


PRESETS: dict[str, DecodePreset] = {
    "posekit": DecodePreset(
        "posekit", DecodeConfig(), PostRules(),
        "robust limb rule (end samples not tested) and the fragment stage (default)"),
    "openpose": DecodePreset(
        "openpose",
        DecodeConfig(
            peak_threshold=0.05, upsample="full", kernel="cubic", refine="centroid",
            refine_radius=3, max_peaks=127, peak_separation=0.0, paf_threshold=0.05, min_above=0.95,
            min_samples=5, max_samples=25, sample_density=5.0, distance_prior=None,
            min_limb_score=1e-6, end_samples="count", sample_spacing="openpose",
            limb_score="mean-above"),
        PostRules(min_parts=3, min_score=0.4, fragments=None),
        "OpenPose C++'s rules exactly, for parity"),
}


def decode_preset(name: str) -> DecodePreset:
    """The preset called ``name``; an unknown name lists the valid ones."""
    try:
        return PRESETS[name]
    except (KeyError, TypeError):
        from posekit.registry import closest

        guess = closest(str(name), list(PRESETS))
        hint = f"; did you mean {guess!r}?" if guess else ""
        raise PosekitError(f"unknown decode preset {name!r}: choose one of "
                           f"{', '.join(PRESETS)}{hint}") from None

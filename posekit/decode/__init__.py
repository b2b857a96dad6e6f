"""Decoding: from network maps to a :class:`CandidateGraph`, and to people (numpy only).

heatmaps (h, w, K+1) + PAFs (h, w, 2L) --find_peaks--> peaks[k] (n_k, 3) [x, y, score]
--score_limbs--> pairs[l] (m_l, 2), scores[l] (m_l,) --> :class:`CandidateGraph` --parser-->
people. Maps at network resolution are mapped onto the image (``image_size``) with the
pixel-centre convention of :mod:`posekit.decode.resize`.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from posekit.decode.graph import CandidateGraph
from posekit.decode.limbs import Ends, Interpolation, LimbScoring, ScoreMode, Spacing, score_limbs
from posekit.decode.peaks import Refine, Upsample, find_peaks
from posekit.decode.resize import Kernel, resolve_geometry, upsample_maps
from posekit.errors import PosekitError
from posekit.people import Person
from posekit.skeleton import Skeleton, load_skeleton

__all__ = [
    "CandidateGraph", "DecodeConfig", "build_candidates", "parse_maps", "find_peaks",
    "check_parser_options", "decode_options", "with_preset_rules", "decode_preset", "PRESETS",
]


@dataclass(frozen=True)
class DecodeConfig:
    """Every setting of decoding. The thresholds and the sampling rule default to
    OpenPose's (C++ parser); peak refinement defaults to the more accurate quadratic.

    Peaks (:func:`~posekit.decode.peaks.find_peaks`):
        peak_threshold: NMS threshold on the heatmaps.
        upsample: ``"patch"`` (fast, default), ``"full"`` (OpenPose's full upsample, the
            reference; PAFs are then read at the nearest pixel of upsampled PAFs, as
            OpenPose does) or ``"none"`` (peaks at map resolution).
        kernel: ``"cubic"`` (OpenPose's) or ``"linear"``: how maps are upsampled, and
            how PAFs are read between map pixels (same kernel, so reading the small maps
            gives what reading upsampled maps would).
        refine: sub-pixel refinement, ``"quadratic"``, ``"centroid"`` (OpenPose's) or
            ``"none"``; refine_radius: half-size of the centroid window (image pixels).
        max_peaks: most candidates kept per part (the best); ``None``: all.
        peak_separation: a peak closer than this many map pixels to a stronger one of
            its part is dropped (0: none, as OpenPose).

    Limbs (:mod:`posekit.decode.limbs`):
        paf_threshold: a PAF sample counts when (PAF . unit vector) exceeds it.
        min_above: fraction of samples that must count (strictly more than it).
        min_samples, max_samples, sample_density: samples per pair =
            clamp(round(sqrt(sample_density * max(|dx|, |dy|))), min_samples, max_samples).
        distance_prior: ``min(distance_prior * image_height / length - 1, 0)`` is added to
            a pair's score; ``None`` drops it.
        min_limb_score: a pair is accepted when its score exceeds it.
        end_samples: ``"count"``: the two end samples, which sit on the candidates, count
            in the fraction test (OpenPose); ``"skip"``: only the samples between them do.
        sample_spacing: ``"both-ends"`` (samples from candidate to candidate, both
            included) or ``"openpose"`` (OpenPose C++: ``a + k d / n``, k < n).
        limb_score: ``"mean"`` of all samples, or ``"mean-above"``: of the samples above
            ``paf_threshold`` only (OpenPose C++).
        See :mod:`posekit.decode.limbs`; :func:`decode_preset` gives named settings.
    """

    peak_threshold: float = 0.05
    upsample: Upsample = "patch"
    kernel: Kernel = "cubic"
    refine: Refine = "quadratic"
    refine_radius: int = 3
    max_peaks: int | None = 127
    peak_separation: float = 1.0
    paf_threshold: float = 0.05
    min_above: float = 0.95
    min_samples: int = 5
    max_samples: int = 25
    sample_density: float = 5.0
    distance_prior: float | None = 0.5
    min_limb_score: float = 0.0
    end_samples: Ends = "skip"
    sample_spacing: Spacing = "both-ends"
    limb_score: ScoreMode = "mean"

    def __post_init__(self) -> None:
        t = self.peak_threshold
        if isinstance(t, (bool, str)) or not 0 <= np.float64(t) <= 1:  # refuses NaN too
            raise PosekitError(f"peak_threshold (--peak-threshold) must be a number from 0 to "
                               f"1 (heatmaps are confidences), got {t!r}")
        if self.upsample not in ("patch", "full", "none"):
            raise PosekitError(f"DecodeConfig.upsample must be 'patch', 'full' or 'none', "
                               f"got {self.upsample!r}")
        if self.kernel not in ("cubic", "linear"):
            raise PosekitError(f"DecodeConfig.kernel must be 'cubic' or 'linear', "
                               f"got {self.kernel!r}")
        if self.refine not in ("quadratic", "centroid", "none"):
            raise PosekitError(f"DecodeConfig.refine must be 'quadratic', 'centroid' or "
                               f"'none', got {self.refine!r}")
        if int(self.refine_radius) != self.refine_radius or self.refine_radius < 0:
            raise PosekitError(f"DecodeConfig.refine_radius must be an integer >= 0, "
                               f"got {self.refine_radius!r}")
        if self.max_peaks is not None and self.max_peaks < 1:
            raise PosekitError(f"DecodeConfig.max_peaks must be >= 1 or None, "
                               f"got {self.max_peaks!r}")
        sep = self.peak_separation
        if isinstance(sep, (bool, str)) or not 0 <= np.float64(sep) < np.inf:
            raise PosekitError(f"DecodeConfig.peak_separation must be a number of map pixels "
                               f">= 0, got {sep!r}")
        _ = self.scoring  # validates the limb fields

    @property
    def scoring(self) -> LimbScoring:
        return LimbScoring(
            sample_threshold=self.paf_threshold, min_above=self.min_above,
            min_samples=self.min_samples, max_samples=self.max_samples,
            density=self.sample_density, prior=self.distance_prior,
            min_score=self.min_limb_score, ends=self.end_samples,
            spacing=self.sample_spacing, score=self.limb_score,
        )


_CONFIG_FIELDS = frozenset(f.name for f in fields(DecodeConfig))


def build_candidates(heatmaps: np.ndarray, pafs: np.ndarray, skeleton: Skeleton | str | Path,
                     image_size: tuple[int, int] | None = None,
                     config: DecodeConfig = DecodeConfig(), *,
                     stride: float | tuple[float, float] | None = None) -> CandidateGraph:
    """Peaks and scored limb connections of one image's maps.

    Args:
        heatmaps: (h, w, K+1) float, last channel background (not searched).
        pafs: (h, w, 2L) float in the skeleton's channel layout.
        image_size: ``(W, H)`` of the image the maps cover; the stride is then
            image size / map size per axis (or ``stride`` when given). ``None``: the maps
            are at image resolution.

    Raises:
        PosekitError: maps of the wrong shape, channel count or dtype, or with NaN/inf.
    """
    from posekit.maps import validate_maps

    sk = load_skeleton(skeleton)
    heat, paf = validate_maps(heatmaps, pafs, sk)
    size, scale = resolve_geometry(heat.shape[:2], image_size, stride)
    K = sk.num_keypoints
    interpolation: Interpolation = "cubic" if config.kernel == "cubic" else "bilinear"
    if config.upsample == "full":
        interpolation = "nearest"
        if scale != (1.0, 1.0) or size != (heat.shape[1], heat.shape[0]):
            both = upsample_maps(np.concatenate([heat[..., :K], paf], axis=2), size, scale,
                                 config.kernel)
            heat, paf, scale = both[..., :K], both[..., K:], (1.0, 1.0)
    peaks = find_peaks(heat[..., :K], config.peak_threshold, image_size=size,
                       stride=scale, upsample=config.upsample, kernel=config.kernel,
                       refine=config.refine, refine_radius=config.refine_radius,
                       max_peaks=config.max_peaks, separation=config.peak_separation)
    pairs, scores = score_limbs(paf, peaks, sk, image_height=size[1], scale=scale,
                                rule=config.scoring, interpolation=interpolation)
    return CandidateGraph(tuple(peaks), pairs, scores, size)


def parse_maps(heatmaps: np.ndarray, pafs: np.ndarray,
               skeleton: Skeleton | str | Path = "coco18", parser: Any = "greedy",
               image_size: tuple[int, int] | None = None, **options: Any) -> list[Person]:
    """People from one image's maps: :func:`build_candidates`, then the parser.

    Args:
        skeleton: name, ``.toml`` path or :class:`Skeleton`.
        parser: parser name (see ``posekit parsers``) or parser object.
        image_size: ``(W, H)`` the maps cover; ``None``: maps at image resolution.
        options: ``decode``: a preset name (:mod:`posekit.decode.presets`: ``"posekit"``,
            the default, or ``"openpose"``), giving the decoding settings and the
            post-rules of a parser given by name; :class:`DecodeConfig` fields on top
            (or ``config=DecodeConfig(...)``, and ``stride``); the rest go to the
            parser's factory (e.g. ``time_limit``, ``rules``).
    """
    preset, config, stride, options = decode_options(options)
    sk = load_skeleton(skeleton)
    check_parser_options(parser, options)
    from posekit.parsers import get_parser

    made = get_parser(parser, **with_preset_rules(parser, options, preset.rules))
    graph = build_candidates(heatmaps, pafs, sk, image_size, config, stride=stride)
    return list(made(graph, sk))


def decode_options(options: dict[str, Any]) -> tuple[Any, DecodeConfig, Any, dict[str, Any]]:
    """Split :func:`parse_maps`' ``options`` into the ``decode`` preset, the
    :class:`DecodeConfig` it gives (or ``config``) with the fields given on top, ``stride``,
    and the rest (the parser factory's options)."""
    from posekit.decode.presets import decode_preset

    options = dict(options)
    preset = decode_preset(options.pop("decode", None) or "posekit")
    config = options.pop("config", None) or preset.config
    if not isinstance(config, DecodeConfig):
        raise PosekitError(f"config must be a DecodeConfig, got {type(config).__name__}")
    stride = options.pop("stride", None)
    fields = {k: options.pop(k) for k in list(options) if k in _CONFIG_FIELDS}
    if fields:
        config = replace(config, **fields)
    return preset, config, stride, options


def with_preset_rules(parser: Any, options: dict[str, Any], rules: Any) -> dict[str, Any]:
    """``options`` for the factory of ``parser``, with a preset's post-rules added when the
    parser is given by name, takes rules and the caller chose none."""
    if isinstance(parser, str) and "rules" not in options and parser_takes(parser, "rules"):
        return {**options, "rules": rules}
    return options


def parser_takes(parser: str, option: str) -> bool:
    """Whether the factory of the parser called ``parser`` takes ``option``."""
    from posekit.parsers import PARSERS

    try:
        params = inspect.signature(PARSERS.get(parser)).parameters
    except (TypeError, ValueError):
        return False
    return option in params  # (a factory taking **options may not know it)


def check_parser_options(parser: Any, options: dict[str, Any]) -> None:
    """Refuse options that neither decoding nor the parser's factory takes."""
    if not options:
        return
    from posekit.registry import closest

    decode = sorted(_CONFIG_FIELDS | {"config", "stride", "decode"})
    accepted: list[str] = []
    if isinstance(parser, str):
        from posekit.parsers import PARSERS

        try:
            params = inspect.signature(PARSERS.get(parser)).parameters
        except (TypeError, ValueError):
            return
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            return
        accepted = sorted(params)
    unknown = sorted(set(options) - set(accepted))
    if not unknown:
        return
    guess = closest(unknown[0], accepted + decode)
    hint = f"; did you mean {guess!r}?" if guess else ""
    who = (f"parser {parser!r} (its options: {', '.join(accepted) or 'none'})"
           if isinstance(parser, str) else "an already built parser (give options when "
                                           "building it)")
    raise PosekitError(f"unknown option(s) {', '.join(unknown)} for {who} or decoding "
                       f"(options: {', '.join(decode)}){hint}")


def __getattr__(name: str) -> Any:
    """``decode_preset`` and ``PRESETS`` (posekit.decode.presets, which needs the parsers'
    post-rules, so it is imported on first use)."""
    if name in ("decode_preset", "PRESETS", "DecodePreset"):
        from posekit.decode import presets

        return getattr(presets, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Peaks near the image edge and peaks too close to tell apart: one candidate per part."""

from __future__ import annotations

import numpy as np
import pytest

from posekit.decode import DecodeConfig, build_candidates
from posekit.decode.peaks import find_peaks
from posekit.targets import confidence_maps, part_affinity_fields


@pytest.mark.parametrize("y", [4.0, 8.0, 13.0, 16.0, 20.0])
@pytest.mark.parametrize("upsample", ["patch", "full"])
def test_a_keypoint_near_the_top_edge_gives_one_peak(coco18, y, upsample):
    """Between the edge and the first map-pixel centre the cubic kernel undershoots and a
    second maximum appears on the edge (it split a real person near the top of a COCO
    image into two): it is an echo, dropped. The peak itself is placed from the maps
    (the upsampled ones only repeat the border there), not a few pixels off."""
    kp = np.zeros((1, 18, 3))
    kp[0, :, :2], kp[0, :, 2] = (250.0, 200.0), 2
    kp[0, 1, :2] = (360.0, y)
    heat = confidence_maps(kp, coco18, (504, 376))
    peaks = find_peaks(heat[..., :18], 0.05, image_size=(504, 376), upsample=upsample)
    assert len(peaks[1]) == 1 and abs(peaks[1][0, 1] - y) < 0.5  # placed from the maps


def test_peaks_closer_than_a_map_pixel_are_one_candidate():
    """Two maxima of one part 4 px apart in maps at stride 8 (the ringing top of one
    smoothed blob) give one candidate, the stronger; ``peak_separation=0`` keeps both."""
    heat = np.zeros((46, 82, 2), dtype=np.float32)
    heat[20, 40, 0], heat[20, 41, 0] = 1.0, 0.0
    yy, xx = np.mgrid[0:368, 0:656]
    big = (np.exp(-((xx - 320.0) ** 2 + (yy - 160.0) ** 2) / 50.0)
           + 0.9 * np.exp(-((xx - 324.0) ** 2 + (yy - 160.0) ** 2) / 2.0))
    both = find_peaks(big[..., None], 0.05)[0]
    assert len(both) == 2  # at image resolution (stride 1) they are apart
    one = find_peaks(big[..., None], 0.05, separation=5.0)[0]
    assert len(one) == 1 and one[0, 2] == both[:, 2].max()


@pytest.mark.parametrize("dx", [12.0, 16.0, 24.0])
def test_separation_never_merges_what_the_maps_keep_apart(coco18, place_people, dx):
    """Two people side by side, ``dx`` px apart: the default decode keeps exactly the
    candidates that decoding without the separation rule finds (where the stride-8 maps
    already hold one blob for two parts, both find one)."""
    kp = place_people(coco18, [(300.0, 184.0), (300.0 + dx, 184.0)], 300.0)
    heat = confidence_maps(kp, coco18, (656, 368))
    paf = part_affinity_fields(kp, coco18, (656, 368))
    with_rule = build_candidates(heat, paf, coco18, (656, 368), DecodeConfig())
    without = build_candidates(heat, paf, coco18, (656, 368),
                               DecodeConfig(peak_separation=0.0))
    assert [len(p) for p in with_rule.peaks] == [len(p) for p in without.peaks]
    assert sum(len(p) == 2 for p in with_rule.peaks) >= 10

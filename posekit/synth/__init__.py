"""Synthetic people and scenes of any skeleton (numpy only at import).

:func:`~posekit.synth.poses.sample_poses` gives ground-truth keypoints (P, K, 3) from a
skeleton's rest pose; ``posekit.synth.render`` draws them into images for ``posekit synth``.
"""

from posekit.synth.poses import articulate, person_boxes, sample_poses, tree_walk

__all__ = ["sample_poses", "articulate", "person_boxes", "tree_walk"]

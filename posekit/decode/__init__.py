"""Decoding: from network maps to a :class:`CandidateGraph` (numpy only, no torch)."""

from posekit.decode.graph import CandidateGraph

__all__ = ["CandidateGraph"]

"""Shared fixtures for the training tests: a tiny synthetic dataset and tiny run settings."""

import numpy as np
import pytest

from posekit import Skeleton
from posekit.skeleton import load_skeleton
from posekit.synth.dataset import SynthSpec, write_synth_dataset
from posekit.training.augment import AugmentConfig
from posekit.training.config import TrainConfig

TOY = Skeleton(
    name="toy4",
    keypoints=("head", "neck", "lhand", "rhand"),
    limbs=(("head", "neck"), ("neck", "lhand"), ("neck", "rhand")),
    redundant_limbs=(("lhand", "rhand"),),
    flip_pairs=(("lhand", "rhand"),),
)


@pytest.fixture(scope="session")
def toy():
    return TOY


@pytest.fixture(scope="session")
def coco18():
    return load_skeleton("coco18")


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory):
    """Three 64x64 synthetic coco18 images with 1-2 people each."""
    out = tmp_path_factory.mktemp("synth") / "data"
    write_synth_dataset(out, load_skeleton("coco18"),
                        SynthSpec(images=3, people=(1, 2), size=(64, 64), seed=3,
                                  scale_range=(0.6, 0.9)))
    return out


def tiny_config(data, out, **overrides):
    """A run that takes a second: 64x64 crops, a narrow one-stage light network."""
    settings = dict(skeleton="coco18", data=str(data), out=str(out), epochs=1, batch_size=2,
                    input_size=64, width=16, paf_stages=1, cm_stages=1, lr=1e-3,
                    augment=AugmentConfig(enabled=False), threads=1, max_val_images=1)
    settings.update(overrides)
    return TrainConfig(**settings)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def make_config():
    return tiny_config

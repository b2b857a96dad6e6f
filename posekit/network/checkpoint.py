"""Network stage: checkpoints, written atomically and read with ``weights_only=True``.

A checkpoint is a plain dict of tensors and JSON-like data::

    {"format": "posekit-checkpoint", "format_version": 1, "posekit_version": str,
     "skeleton": {"name", "layout_hash", "definition": Skeleton.to_dict(),
                  "limbs": [[a, b], ...]  (format 2, only when the network covers a subset)},
     "config": NetworkConfig.to_dict(), "preprocess": Preprocess.to_dict(),
     "state_dict": {name: tensor}, "extra": {...}}

so ``torch.load(..., weights_only=True)`` (the only way posekit reads one) loads it and
refuses anything that would need arbitrary unpickling. ``layout_hash`` is the full
skeleton's, so such a checkpoint still belongs to that skeleton; the network itself is
built for the skeleton restricted to ``limbs`` (see :mod:`posekit.network.limbs`). Files
without ``limbs`` are written as format 1, which older posekit versions read.
"""

from __future__ import annotations

import pickle
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from posekit._atomic import atomic_path
from posekit._version import __version__
from posekit.errors import PosekitError
from posekit.network.config import NetworkConfig, Preprocess
from posekit.network.limbs import covered_limbs, is_restriction, restrict_skeleton
from posekit.network.model import PoseNetwork, empty_network
from posekit.network.runtime import resolve_device
from posekit.skeleton import Skeleton, load_skeleton, skeleton_from_dict

__all__ = ["Checkpoint", "save_checkpoint", "load_checkpoint", "load_network",
           "read_checkpoint_file", "state_dict_mismatch", "FORMAT", "FORMAT_VERSION"]

FORMAT = "posekit-checkpoint"
FORMAT_VERSION = 2


@dataclass(frozen=True)
class Checkpoint:
    """What a checkpoint records besides the weights.

    ``skeleton`` is the one the network predicts maps for (decode and parse with it);
    ``full_skeleton`` the installed skeleton it belongs to, which declares more limbs when
    the network covers only some (``None``: the same as ``skeleton``).
    """

    path: Path
    skeleton: Skeleton
    config: NetworkConfig
    preprocess: Preprocess
    posekit_version: str
    extra: dict[str, Any] = field(default_factory=dict)
    full_skeleton: Skeleton | None = None

    @property
    def declared_skeleton(self) -> Skeleton:
        """The skeleton as installed (all its limbs)."""
        return self.full_skeleton if self.full_skeleton is not None else self.skeleton


def _unwrap(net: nn.Module) -> nn.Module:
    """The network inside torch.compile / DataParallel wrappers."""
    for attr in ("_orig_mod", "module"):
        inner = getattr(net, attr, None)
        if isinstance(inner, nn.Module) and not isinstance(net, PoseNetwork):
            return _unwrap(inner)
    return net


def save_checkpoint(path: str | Path, net: nn.Module, skeleton: Skeleton | str,
                    preprocess: Preprocess, *, extra: dict[str, Any] | None = None) -> Path:
    """Write ``net`` and what it needs to be rebuilt to ``path`` (temp file + rename).

    ``net`` may be built for ``skeleton`` restricted to some of its limbs (see
    :func:`~posekit.network.limbs.restrict_skeleton`); the checkpoint then records them.
    ``extra`` (e.g. epoch, losses, optimizer state) may hold only tensors, str, int, float,
    bool, None, lists and str-keyed dicts of those.
    """
    path = Path(path)
    sk = load_skeleton(skeleton)
    net = _unwrap(net)
    if not isinstance(net, PoseNetwork):
        raise PosekitError(
            f"save_checkpoint: expected a network from build_network, got {type(net).__name__}"
        )
    restricted = net.layout_hash != sk.layout_hash and is_restriction(net.skeleton, sk)
    if net.skeleton_name != sk.name or (net.layout_hash != sk.layout_hash and not restricted):
        raise PosekitError(
            f"save_checkpoint: the network was built for skeleton {net.skeleton_name!r} "
            f"(layout {net.layout_hash}), not {sk.name!r} (layout {sk.layout_hash})"
        )
    if not isinstance(preprocess, Preprocess):
        raise PosekitError(
            f"save_checkpoint: preprocess must be a Preprocess, got {type(preprocess).__name__}"
        )
    extra = {} if extra is None else extra
    _check_plain(extra, "extra")
    stored: dict[str, Any] = {"name": sk.name, "layout_hash": sk.layout_hash,
                              "definition": sk.to_dict()}
    if restricted:
        stored["limbs"] = covered_limbs(net.skeleton)
    data = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION if restricted else 1,
        "posekit_version": __version__,
        "skeleton": stored,
        "config": net.config.to_dict(),
        "preprocess": preprocess.to_dict(),
        # written at once below, so no copy is needed for tensors already on the CPU
        "state_dict": {k: v.detach().to("cpu") for k, v in net.state_dict().items()},
        "extra": extra,
    }
    with atomic_path(path) as tmp:
        torch.save(data, tmp)
    return path


def _check_plain(value: Any, where: str) -> None:
    if value is None or isinstance(value, (bool, int, float, str, torch.Tensor)):
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_plain(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, (str, int)):
                raise PosekitError(
                    f"save_checkpoint: {where} has a key of type {type(key).__name__}; "
                    "use str or int keys"
                )
            _check_plain(item, f"{where}[{key!r}]")
        return
    raise PosekitError(
        f"save_checkpoint: {where} is a {type(value).__name__}; checkpoints hold only tensors, "
        "str, int, float, bool, None, lists and dicts (convert it, e.g. to a list or tensor)"
    )


def read_checkpoint_file(path: str | Path, what: str = "checkpoint",
                         map_location: Any = "cpu") -> Any:
    """``torch.load(path, weights_only=True)`` with every failure turned into PosekitError."""
    path = Path(path)
    if not path.exists():
        raise PosekitError(f"{what} {str(path)!r} does not exist; check the path")
    if path.is_dir():
        raise PosekitError(f"{what} {str(path)!r} is a directory, not a file")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(exc))
        if found is None:
            raise PosekitError(
                f"{what} {str(path)!r} is not a readable torch file (it does not unpickle); "
                "it may be truncated or of another format"
            ) from None
        raise PosekitError(
            f"{what} {str(path)!r} was refused by torch.load(weights_only=True): it holds a "
            f"pickled Python object ({found[1]}), not only tensors and plain data"
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError, KeyError, IndexError,
            AttributeError, TypeError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PosekitError(
            f"{what} {str(path)!r} is not a readable torch file ({reason[:120]}); "
            "it may be truncated or of another format"
        ) from None


def load_checkpoint(path: str | Path, skeleton: Skeleton | str | None = None,
                    map_location: str | torch.device = "cpu") -> tuple[PoseNetwork, Checkpoint]:
    """Rebuild the network stored in ``path`` (train mode, on ``map_location``).

    With ``skeleton`` given, the checkpoint must have been trained for it (same name and
    layout hash); otherwise the skeleton stored in the checkpoint is used.
    """
    path = Path(path)
    device = resolve_device(map_location)
    data = read_checkpoint_file(path, "checkpoint", map_location="cpu")
    name = str(path)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        hint = ""
        if isinstance(data, dict) and data and all(isinstance(v, torch.Tensor)
                                                   for v in data.values()):
            hint = ("; it looks like a bare state dict (for OpenPose weights run "
                    "`posekit weights import --from pytorch-openpose SRC.pth --out DST.pt`)")
        raise PosekitError(f"{name!r} is not a posekit checkpoint{hint}")
    version = data.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise PosekitError(
            f"checkpoint {name!r} has format version {version!r}, this posekit reads up to "
            f"{FORMAT_VERSION}; upgrade posekit"
        )
    try:
        stored = data["skeleton"]
        stored_sk = skeleton_from_dict(dict(stored["definition"]), source=f"checkpoint {name}")
        stored_name, stored_hash = stored["name"], stored["layout_hash"]
        limbs = stored.get("limbs")
        config = NetworkConfig.from_dict(dict(data["config"]))
        preprocess = Preprocess.from_dict(dict(data["preprocess"]))
        state = data["state_dict"]
        extra = data.get("extra") or {}
    except (KeyError, TypeError, ValueError, PosekitError) as exc:
        raise PosekitError(f"checkpoint {name!r} is damaged ({exc}); re-create it") from None
    if stored_sk.layout_hash != stored_hash:
        raise PosekitError(f"checkpoint {name!r} is damaged: its skeleton does not match its hash")
    net_sk = stored_sk
    if limbs is not None:
        try:
            net_sk = restrict_skeleton(stored_sk, limbs)
        except (PosekitError, TypeError) as exc:
            raise PosekitError(f"checkpoint {name!r} is damaged ({exc}); re-create it") from None
    sk = stored_sk
    if skeleton is not None:
        sk = load_skeleton(skeleton)
        if sk.name != stored_name or sk.layout_hash != stored_hash:
            raise PosekitError(
                f"checkpoint {name!r} was trained for skeleton {stored_name!r} (layout "
                f"{stored_hash}), not {sk.name!r} (layout {sk.layout_hash}); use "
                f"--skeleton {stored_name} or weights trained for {sk.name!r}"
            )
    # the installed skeleton's sigmas, flip pairs and rest pose; the checkpoint's limbs
    net_sk = sk if limbs is None else restrict_skeleton(sk, net_sk.all_limbs)
    net = empty_network(net_sk, config, preprocess)   # every tensor comes from the file
    if not isinstance(state, dict):
        raise PosekitError(f"checkpoint {name!r} is damaged: state_dict is not a mapping")
    mismatch = state_dict_mismatch(net.state_dict(), state)
    if mismatch:
        raise PosekitError(f"checkpoint {name!r} does not fit its architecture: {mismatch}")
    # take over the loaded tensors instead of copying them when their dtypes already fit
    own = net.state_dict()
    net.load_state_dict(state, assign=all(state[k].dtype == v.dtype for k, v in own.items()))
    net.to(device)
    meta = Checkpoint(path=path, skeleton=net_sk, config=config, preprocess=preprocess,
                      posekit_version=str(data.get("posekit_version", "unknown")), extra=extra,
                      full_skeleton=None if limbs is None else sk)
    return net, meta


def load_network(path: str | Path, skeleton: Skeleton | str | None = None,
                 device: str | torch.device = "cpu") -> PoseNetwork:
    """The network stored in ``path``, in eval mode (``net(x) -> (pafs, heatmaps)``)."""
    net, _ = load_checkpoint(path, skeleton=skeleton, map_location=device)
    return net.eval()


def state_dict_mismatch(expected: dict[str, torch.Tensor], got: dict[str, Any]) -> str | None:
    """The first difference between two state dicts, in words, or None."""
    for key, ref in expected.items():
        if key not in got:
            return f"missing key {key!r}"
        value = got[key]
        if not isinstance(value, torch.Tensor):
            return f"{key!r} is a {type(value).__name__}, not a tensor"
        if tuple(value.shape) != tuple(ref.shape):
            return (f"shape of {key!r}: expected {tuple(ref.shape)}, "
                    f"got {tuple(value.shape)}")
    for key in got:
        if key not in expected:
            return f"unexpected key {key!r}"
    return None

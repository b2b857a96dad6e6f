"""Start-up of a decode worker process, before numpy is imported there.

A worker runs one decode at a time, so numpy's BLAS (and any OpenMP pool) gets one thread:
left at its default of one thread per core, its idle threads spin and take CPU from the
network in the parent process. The limits must be set before numpy loads, hence this
module, which imports nothing heavy, is the pool's initializer and unpickles the setup
itself.
"""

from __future__ import annotations

import os

__all__ = ["boot"]

_ONE_THREAD = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "BLIS_NUM_THREADS", "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


def boot(setup: bytes, nice: int = 0) -> None:
    """Process-pool initializer: ``setup`` is the pickled
    :class:`~posekit.inference.decode_worker.DecodeSetup`, loaded only after the limits."""
    for name in _ONE_THREAD:
        os.environ[name] = "1"
    if nice:
        try:
            os.nice(nice)
        except OSError:  # pragma: no cover - not allowed here: keep the priority
            pass
    import pickle

    from posekit.inference.decode_worker import init_worker

    init_worker(pickle.loads(setup))  # noqa: S301 - our own parent process's bytes

"""Inference as a pipeline: loading, the network and decode + parse run at the same time.

    sources --(feeder thread: iterates the sources, e.g. decodes video frames)-->
    load + resize (thread pool: PIL releases the GIL) --(in order)-->
    batches of same-size images --(network: this thread, or ``streams`` threads on a CPU)-->
    maps (or GPU peaks + PAFs) --(process pool, or the stream's thread)--> people
    --(reordered)--> results, in input order

Only images of one input size share a forward pass (:meth:`PoseEstimator._forward`), and
decoding sees exactly the maps :meth:`PoseEstimator.maps` gives, so the results equal
:meth:`PoseEstimator.predict`'s whatever the batch size, the worker count or the timing.
Queues between the stages are bounded: memory stays flat on any number of inputs.

On CUDA (or with ``peaks_on_device=True``) peaks are found on the device
(:mod:`posekit.inference.gpu_peaks`) and only they and the PAFs are copied to the host.

On a CPU the network runs as several **streams**: threads that each take a batch through
the network with their share of torch's threads (one each on up to ``MAX_STREAMS`` cores)
and then decode it. A small network splits poorly over threads inside one pass (the light
network at 368 x 656 on 2 cores: 1.4 times one thread's rate) but two passes side by side
give almost twice one thread's rate, and with decoding done by the stream that made the
maps, every core stays busy without a decode process competing with a pass's threads.
"""

from __future__ import annotations

import functools
import os
import pickle
import queue
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any

from posekit.errors import PosekitError
from posekit.inference.decode_worker import (
    DecodeSetup,
    DecodeTask,
    decode,
    decode_in_worker,
)
from posekit.inference.images import LoadedImage
from posekit.inference.worker_boot import boot
from posekit.people import Person

__all__ = ["Pipeline", "Result", "Known", "default_workers"]

_END = object()
# niceness added to decode processes (see Pipeline)
WORKER_NICE = 10
# most network streams on a CPU (each holds its own activations)
MAX_STREAMS = 4


def default_workers(device: str = "cuda") -> int:
    """Decode processes by default: on CUDA one less than the cores, 1 to 4; on a CPU
    none, as the network's streams decode their own maps (see :func:`default_streams`).

    A decode process beside a network that keeps every core busy has no idle core to hide
    behind: preempting one of a pass's threads stalls the others at the pass's next
    barrier (measured at 368 x 656 with the light network on 2 cores: 77-86 % of the
    network-alone rate with one decode process, 88-95 % decoding in turn).
    """
    if device == "cpu":
        return 0
    return max(1, min(4, (os.cpu_count() or 2) - 1))


def default_streams(device: str = "cuda", threads: int | None = None) -> int:
    """Concurrent network passes by default: on a CPU one per torch thread (``threads``,
    default ``torch.get_num_threads()``: the cores this process may use, shared out under
    torchrun), at most ``MAX_STREAMS``; elsewhere one."""
    if device != "cpu":
        return 1
    if threads is None:
        import torch

        threads = torch.get_num_threads()
    return max(1, min(MAX_STREAMS, int(threads)))


@dataclass(eq=False)
class Result:
    """One input's outcome: people (and the loaded image, for overlays) or an error."""

    key: Any
    image: LoadedImage | None = None
    people: list[Person] | None = None
    error: PosekitError | None = None


@dataclass(frozen=True, eq=False)
class Known:
    """A source whose people are known already (e.g. a video frame done by an earlier,
    interrupted run): loaded for its overlay when ``source`` is given, never run through
    the network, and passed through in order."""

    people: list[Person]
    source: Any = None


@dataclass(eq=False)
class _Waiting:
    key: Any
    image: LoadedImage
    future: Future[list[Person]]


class _Reorder:
    """Results by input position, released in order."""

    def __init__(self) -> None:
        self.done: dict[int, Result | _Waiting] = {}
        self.next = 0

    def ready(self, hold: int = 0) -> Iterator[Result]:
        """Finished results from the next position on, waiting for the next one only while
        more than ``hold`` results are held (``hold=0``: until every result is out).

        Waiting only while over the limit, not for everything held, keeps work queued for
        the network's streams while the oldest input finishes.
        """
        while self.next in self.done:
            entry = self.done[self.next]
            if isinstance(entry, _Waiting):
                if len(self.done) <= hold and not entry.future.done():
                    return
                try:
                    entry = Result(entry.key, entry.image, people=entry.future.result())
                except Exception as exc:  # noqa: BLE001 - reported per input
                    entry = Result(entry.key, entry.image, error=_as_error(exc))
            del self.done[self.next]
            self.next += 1
            yield entry


class Pipeline:
    """A reusable pipeline over one estimator (use as a context manager).

    Args:
        workers: decode processes; 0 decodes in the thread that ran the network (default:
            the estimator's ``workers``, else :func:`default_workers`).
        streams: concurrent network passes, each in its own thread with an equal share of
            torch's threads while :meth:`run` runs (default: the estimator's ``streams``,
            else :func:`default_streams`: on a CPU one per torch thread, up to
            ``MAX_STREAMS``; one for a compiled network or on CUDA).
        peaks_on_device: find peaks where the network ran (default: on CUDA, when the
            decode options allow it).
        loader_threads: threads that load and resize images.
        worker_nice: added to the decode processes' niceness, so that the network, the
            slowest stage, keeps the cores.
    """

    def __init__(self, estimator: Any, *, workers: int | None = None,
                 streams: int | None = None, peaks_on_device: bool | None = None,
                 loader_threads: int = 2, worker_nice: int = WORKER_NICE) -> None:
        from posekit.decode import DecodeConfig
        from posekit.inference.gpu_peaks import supports

        self.est = estimator
        device = estimator.device.type
        if workers is None:
            workers = getattr(estimator, "workers", None)
        self.workers = default_workers(device) if workers is None else int(workers)
        if streams is None:
            streams = getattr(estimator, "streams", None)
        if streams is None:
            streams = 1 if getattr(estimator, "compiled", False) else default_streams(device)
        if streams < 1:
            raise PosekitError(f"streams must be 1 or more, got {streams}")
        self.streams = int(streams)
        self.loader_threads = max(1, loader_threads)
        self.worker_nice = worker_nice
        self.setup = DecodeSetup(estimator.skeleton, estimator.parser,
                                 dict(estimator.decode_options))
        self._decoder = decode(self.setup)
        config = self._decoder.config
        if peaks_on_device is None:
            peaks_on_device = estimator.device.type == "cuda" and supports(config)
        elif peaks_on_device and not supports(config):
            raise PosekitError("peaks on the device need the cubic kernel and quadratic or no "
                               f"refinement; got {config.kernel!r}/{config.refine!r}")
        self.peaks_on_device = peaks_on_device
        self.config: DecodeConfig = config
        self._pool: ProcessPoolExecutor | None = None
        self._streams: _Streams | None = None

    @property
    def window(self) -> int:
        """Most results held for reordering: past it the loop waits for the oldest input
        before taking more (the streams and workers still have the rest to work on)."""
        b = self.est.batch_size
        return max(2 * b, 4 * max(self.workers, 1) + b, 2 * self.streams * b)

    def __enter__(self) -> Pipeline:
        if self.workers > 0 and self._pool is None:
            try:
                pickle.dumps(self.setup)
            except Exception:  # noqa: BLE001 - an unpicklable custom parser: decode here
                self.workers = 0
            else:
                self._pool = ProcessPoolExecutor(
                    self.workers, mp_context=get_context("spawn"),
                    initializer=boot, initargs=(pickle.dumps(self.setup), self.worker_nice))
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=exc[0] is None, cancel_futures=True)
            self._pool = None

    # ------------------------------------------------------------------ the loop
    def run(self, items: Iterable[tuple[Any, Any]]) -> Iterator[Result]:
        """Results for ``(key, source)`` items, in order. A source is a path, PIL image,
        array or :class:`LoadedImage` (``name`` from a ``(key, source, name)`` triple), or
        a :class:`PosekitError` (e.g. a corrupt video frame), passed through as a failure.

        Errors raised while iterating ``items`` end the run after the results before them.
        """
        est = self.est
        batch_size = est.batch_size
        inbox: queue.Queue[Any] = queue.Queue(maxsize=max(4, 2 * batch_size))
        stop = threading.Event()
        with _Streams(self.streams) as streams:
            self._streams = streams
            try:
                yield from self._run(items, batch_size, inbox, stop)
            finally:
                self._streams = None

    def _run(self, items: Iterable[tuple[Any, Any]], batch_size: int,
             inbox: queue.Queue[Any], stop: threading.Event) -> Iterator[Result]:
        loader = ThreadPoolExecutor(self.loader_threads, thread_name_prefix="posekit-load")
        feeder = threading.Thread(target=self._feed, args=(items, inbox, loader, stop),
                                  name="posekit-feed", daemon=True)
        feeder.start()
        groups: dict[Any, list[tuple[int, Any, Any]]] = {}
        order = _Reorder()
        done = order.done
        window = self.window
        seq = 0
        failure: BaseException | None = None
        try:
            while True:
                msg = inbox.get()
                if msg is _END:
                    break
                if isinstance(msg, BaseException):
                    failure = msg
                    break
                key, future = msg
                try:
                    item = future.result()
                except PosekitError as exc:
                    done[seq] = Result(key, error=exc)
                except (OSError, ValueError, MemoryError) as exc:
                    done[seq] = Result(key, error=PosekitError(
                        f"cannot load it ({type(exc).__name__}: {_first_line(exc)})"))
                else:
                    if isinstance(item, PosekitError):
                        done[seq] = Result(key, error=item)
                    elif isinstance(item, tuple):  # (image or None, known people)
                        done[seq] = Result(key, item[0], people=item[1])
                    else:
                        group = groups.setdefault(item.key, [])
                        group.append((seq, key, item))
                        if len(group) >= batch_size:
                            self._flush(groups.pop(item.key), done)
                        elif sum(len(g) for g in groups.values()) > 2 * batch_size:
                            self._flush(groups.pop(next(iter(groups))), done)  # the oldest
                seq += 1
                yield from order.ready(hold=window)
            for group in list(groups.values()):
                self._flush(group, done)
            groups.clear()
            yield from order.ready()
        finally:
            stop.set()
            while feeder.is_alive():  # unblock the feeder if it waits on a full inbox
                try:
                    inbox.get(timeout=0.05)
                except queue.Empty:
                    pass
            loader.shutdown(wait=True, cancel_futures=True)
        if failure is not None:
            raise failure

    def _feed(self, items: Iterable[Any], inbox: queue.Queue[Any],
              loader: ThreadPoolExecutor, stop: threading.Event) -> None:
        """Iterate the sources (in this thread: a video decodes here) and queue loads."""
        try:
            for entry in items:
                if stop.is_set():
                    return
                key, source, *rest = entry
                name = rest[0] if rest else None
                if isinstance(source, PosekitError) or (
                        isinstance(source, Known) and source.source is None):
                    fut: Future[Any] = Future()
                    fut.set_result(source if isinstance(source, PosekitError)
                                   else (None, source.people))
                else:
                    fut = loader.submit(self._load, source, name)
                inbox.put((key, fut))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            inbox.put(exc)
            return
        inbox.put(_END)

    def _load(self, source: Any, name: str | None) -> Any:
        if isinstance(source, Known):
            return self.est.load(source.source, name=name), source.people
        return self.est.prepare(self.est.load(source, name=name))

    def _flush(self, group: list[tuple[int, Any, Any]], done: dict[int, Any]) -> None:
        """One forward pass for a same-size group, in this thread or handed to a stream
        (whose results then arrive through futures)."""
        streams = self._streams
        if streams is None or streams.pool is None:
            self._pass(group, done)
            return
        futures: dict[int, Future[list[Person]]] = {}
        for seq, key, item in group:
            futures[seq] = Future()
            done[seq] = _Waiting(key, item.image, futures[seq])
        streams.pool.submit(self._stream_pass, group, futures)

    def _stream_pass(self, group: list[tuple[int, Any, Any]],
                     futures: dict[int, Future[list[Person]]]) -> None:
        """A stream's job: :meth:`_pass`, its outcomes handed to the waiting futures."""
        done: dict[int, Any] = {}
        try:
            self._pass(group, done)
        except BaseException as exc:  # noqa: BLE001 - every waiting input learns of it
            for future in futures.values():
                if not future.done():
                    future.set_exception(exc)
            return
        for seq, future in futures.items():
            entry = done[seq]
            if isinstance(entry, _Waiting):  # decoding in a worker process
                entry.future.add_done_callback(functools.partial(_forward_outcome, future))
            elif entry.error is not None:
                future.set_exception(entry.error)
            else:
                future.set_result(entry.people)

    def _pass(self, group: list[tuple[int, Any, Any]], done: dict[int, Any]) -> None:
        """One forward pass for a same-size group; decoding is handed to the workers."""
        try:
            maps = self.est.device_maps([item for _, _, item in group])
        except (RuntimeError, MemoryError) as exc:
            if len(group) > 1:  # isolate the input that fails
                for member in group:
                    self._pass([member], done)
                return
            seq, key, item = group[0]
            done[seq] = Result(key, item.image, error=PosekitError(
                f"network failed ({type(exc).__name__}: {_first_line(exc)})"))
            return
        for (seq, key, item), (paf, heat) in zip(group, maps, strict=True):
            try:
                task = self._task(item.image, paf, heat)
            except Exception as exc:  # noqa: BLE001 - reported per input
                done[seq] = Result(key, item.image, error=_as_error(exc))
                continue
            pool = self._pool
            if pool is not None:
                try:
                    future = pool.submit(decode_in_worker, task)
                except Exception:  # noqa: BLE001 - a broken pool: decode here from now on
                    pool.shutdown(wait=False, cancel_futures=True)
                    self._pool = None
                else:
                    done[seq] = _Waiting(key, item.image, future)
                    continue
            try:
                done[seq] = Result(key, item.image, people=self._decoder(task))
            except Exception as exc:  # noqa: BLE001 - reported per input
                done[seq] = Result(key, item.image, error=_as_error(exc))

    def _task(self, image: LoadedImage, paf: Any, heat: Any) -> DecodeTask:
        from posekit.network import maps_to_numpy

        if self.peaks_on_device:
            from posekit.inference.gpu_peaks import device_peaks

            K = self.est.skeleton.num_keypoints
            peaks = device_peaks(heat[:K], self.config.peak_threshold, image.working_size,
                                 kernel=self.config.kernel, refine=self.config.refine,
                                 max_peaks=self.config.max_peaks,
                                 separation=getattr(self.config, "peak_separation", 0.0))
            pafs = paf.detach().float().cpu().permute(1, 2, 0).contiguous().numpy()
            return DecodeTask(pafs, None, tuple(peaks), image.working_size, image.scale)
        heat_np, paf_np = maps_to_numpy(paf, heat)
        return DecodeTask(paf_np, heat_np, None, image.working_size, image.scale)


class _Streams:
    """The stream threads of one :meth:`Pipeline.run` (none for one stream), with torch's
    threads shared out among them while it runs."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.pool: ThreadPoolExecutor | None = None
        self._threads: int | None = None

    def __enter__(self) -> _Streams:
        if self.count > 1:
            import torch

            self._threads = torch.get_num_threads()
            torch.set_num_threads(max(1, self._threads // self.count))
            self.pool = ThreadPoolExecutor(self.count, thread_name_prefix="posekit-stream")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
        if self._threads is not None:
            import torch

            torch.set_num_threads(self._threads)
            self._threads = None


def _forward_outcome(target: Future[Any], source: Future[Any]) -> None:
    """Copy a finished future's outcome onto ``target``."""
    if source.cancelled():
        target.cancel()
    elif source.exception() is not None:
        target.set_exception(source.exception())
    else:
        target.set_result(source.result())


def _as_error(exc: BaseException) -> PosekitError:
    if isinstance(exc, PosekitError):
        return exc
    return PosekitError(f"decoding failed ({type(exc).__name__}: {_first_line(exc)})")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__

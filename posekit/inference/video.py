"""Inference input and output for videos: frames (h, w, 3) uint8 RGB in, overlay video out.

PyAV (``av``, the ``video`` extra: ``pip install posekit[video]``) is the reader posekit
is tested with; OpenCV (``cv2``) or imageio also work when PyAV is missing (tried in that
order); without any, opening a video raises :class:`~posekit.errors.PosekitError` saying
what to install. The same library writes the overlay video when it can (to a temporary
file, renamed when complete).

:func:`open_video` reads a video frame by frame and keeps going past damage: with PyAV a
packet that does not decode becomes a :class:`~posekit.errors.PosekitError` in place of
its frame, and a file that ends before the frame count its header declares is noted in
:attr:`VideoSource.problems`, so the good frames are kept and the damage reported.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from posekit._atomic import temp_beside
from posekit.errors import PosekitError

__all__ = [
    "VIDEO_SUFFIXES", "video_backend", "read_frames", "video_fps", "VideoWriter",
    "NO_READER_MESSAGE", "VideoSource", "open_video",
]

VIDEO_SUFFIXES = frozenset({
    ".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".ts",
})
_BACKENDS = ("av", "cv2", "imageio")
NO_READER_MESSAGE = (
    "cannot read videos: no video reader is installed; `pip install av` (or opencv-python, "
    "or imageio[ffmpeg]), or extract the frames as images first"
)


def video_backend() -> str | None:
    """The first importable video library among av, cv2, imageio (None if none)."""
    for name in _BACKENDS:
        if importlib.util.find_spec(name) is not None:
            return name
    return None


def _require_backend(path: Path) -> str:
    name = video_backend()
    if name is None:
        raise PosekitError(f"{path}: {NO_READER_MESSAGE}")
    return name


def video_fps(path: str | Path) -> float:
    """Frames per second of a video (30 when the file does not say)."""
    path = Path(path)
    backend = _require_backend(path)
    fps: Any = None
    try:
        if backend == "av":
            av = importlib.import_module("av")
            with av.open(str(path)) as container:
                stream = container.streams.video[0]
                fps = stream.average_rate or stream.guessed_rate
        elif backend == "cv2":
            cv2 = importlib.import_module("cv2")
            cap = cv2.VideoCapture(str(path))
            fps = cap.get(cv2.CAP_PROP_FPS) if cap.isOpened() else None
            cap.release()
        else:
            iio = importlib.import_module("imageio.v3")
            fps = iio.immeta(path).get("fps")
    except Exception as exc:  # noqa: BLE001 - every library has its own errors
        raise PosekitError(f"{path}: not a readable video ({_reason(exc)})") from None
    try:
        value = float(fps) if fps else 0.0
    except (TypeError, ValueError):
        value = 0.0
    return value if 0 < value < 1000 else 30.0


def read_frames(path: str | Path) -> Iterator[np.ndarray]:
    """Frames of a video as (h, w, 3) uint8 RGB arrays, in order."""
    path = Path(path)
    backend = _require_backend(path)
    if not path.is_file():
        raise PosekitError(f"{path}: no such file")
    count = 0
    try:
        for frame in _READERS[backend](path):
            count += 1
            yield np.ascontiguousarray(frame[..., :3], dtype=np.uint8)
    except PosekitError:
        raise
    except Exception as exc:  # noqa: BLE001
        where = f"after frame {count}" if count else "no frame could be decoded"
        raise PosekitError(f"{path}: not a readable video ({where}: {_reason(exc)})") from None
    if count == 0:
        raise PosekitError(f"{path}: not a readable video (no frames)")


def _read_av(path: Path) -> Iterator[np.ndarray]:
    av = importlib.import_module("av")
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            yield frame.to_ndarray(format="rgb24")


def _read_cv2(path: Path) -> Iterator[np.ndarray]:
    cv2 = importlib.import_module("cv2")
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise ValueError("OpenCV cannot open it")
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    finally:
        cap.release()


def _read_imageio(path: Path) -> Iterator[np.ndarray]:
    iio = importlib.import_module("imageio.v3")
    for frame in iio.imiter(path):
        frame = np.asarray(frame)
        if frame.ndim == 2:
            frame = np.repeat(frame[:, :, None], 3, axis=2)
        yield frame


_READERS = {"av": _read_av, "cv2": _read_cv2, "imageio": _read_imageio}


@dataclass(eq=False)
class VideoSource:
    """An open video: its frame rate, the frame count its header declares (None when it
    does not say) and, once :meth:`frames` has run, the problems met on the way."""

    path: Path
    fps: float
    declared_frames: int | None
    backend: str
    problems: list[str] = field(default_factory=list)

    def frames(self) -> Iterator[tuple[int, np.ndarray | PosekitError]]:
        """``(index, frame)`` in order; a frame that cannot be decoded comes as a
        :class:`PosekitError` (PyAV) and the rest still follow."""
        count = 0
        if self.backend == "av":
            it = self._frames_av()
        else:
            it = ((i, f) for i, f in enumerate(read_frames(self.path)))
        try:
            for index, frame in it:
                count = index + 1
                yield index, frame
        except PosekitError as exc:
            self.problems.append(str(exc).removeprefix(f"{self.path}: "))
        if self.declared_frames and count < self.declared_frames:
            self.problems.append(f"ended early: {count} of the {self.declared_frames} frames "
                                 "its header declares")

    def _frames_av(self) -> Iterator[tuple[int, np.ndarray | PosekitError]]:
        av = importlib.import_module("av")
        index = 0
        try:
            container = av.open(str(self.path))
        except Exception as exc:  # noqa: BLE001 - every library has its own errors
            raise PosekitError(f"{self.path}: cannot open the video ({_reason(exc)})") from None
        with container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            packets = container.demux(stream)
            while True:
                try:
                    packet = next(packets)
                except StopIteration:
                    return
                except Exception as exc:  # noqa: BLE001
                    raise PosekitError(f"{self.path}: unreadable after frame {index} "
                                       f"({_reason(exc)})") from None
                try:
                    decoded = packet.decode()
                except Exception as exc:  # noqa: BLE001 - a damaged frame: skip it
                    yield index, PosekitError(f"frame {index} is corrupt ({_reason(exc)})")
                    index += 1
                    continue
                for frame in decoded:
                    yield index, frame.to_ndarray(format="rgb24")
                    index += 1


def open_video(path: str | Path) -> VideoSource:
    """Open a video for :meth:`VideoSource.frames` (a clear error if it cannot be)."""
    path = Path(path)
    backend = _require_backend(path)
    if not path.is_file():
        raise PosekitError(f"{path}: no such file")
    declared: int | None = None
    if backend == "av":
        av = importlib.import_module("av")
        try:
            with av.open(str(path)) as container:
                if not container.streams.video:
                    raise PosekitError(f"{path}: holds no video stream")
                stream = container.streams.video[0]
                rate = stream.average_rate or stream.guessed_rate
                declared = int(stream.frames) or None
        except PosekitError:
            raise
        except Exception as exc:  # noqa: BLE001 - every library has its own errors
            raise PosekitError(f"{path}: cannot open the video ({_reason(exc)}); check that "
                               "it plays, or re-encode it") from None
        fps = float(rate) if rate else 30.0
        fps = fps if 0 < fps < 1000 else 30.0
    else:
        fps = video_fps(path)
    return VideoSource(path, fps, declared, backend)


class VideoWriter:
    """Write RGB frames to ``path`` (.mp4), atomically: nothing appears unless closed cleanly.

    Use :meth:`open`; it returns None when no installed library can write video.
    """

    def __init__(self, path: Path, fps: float, backend: str) -> None:
        self.path = Path(path)
        self.fps = fps
        self.backend = backend
        self.tmp = temp_beside(self.path, suffix=".mp4")
        self._handle: Any = None
        self._stream: Any = None
        self._size: tuple[int, int] | None = None

    @classmethod
    def open(cls, path: str | Path, fps: float) -> VideoWriter | None:
        backend = video_backend()
        if backend is None:
            return None
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return cls(Path(path), fps, backend)

    def write(self, frame: np.ndarray) -> None:
        h, w = frame.shape[:2]
        if self._size is None:
            self._size = (w - w % 2, h - h % 2)  # yuv420p needs even sizes
            self._start()
        w2, h2 = self._size
        frame = np.ascontiguousarray(frame[:h2, :w2, :3], dtype=np.uint8)
        if self.backend == "av":
            av = importlib.import_module("av")
            for packet in self._stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                self._handle.mux(packet)
        elif self.backend == "cv2":
            cv2 = importlib.import_module("cv2")
            self._handle.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        else:
            self._handle.append_data(frame)

    def _start(self) -> None:
        w, h = self._size or (0, 0)
        if self.backend == "av":
            av = importlib.import_module("av")
            self._handle = av.open(str(self.tmp), mode="w", format="mp4")
            codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
            rate = Fraction(self.fps).limit_denominator(1001)
            self._stream = self._handle.add_stream(codec, rate=rate)
            self._stream.width, self._stream.height = w, h
            self._stream.pix_fmt = "yuv420p"
        elif self.backend == "cv2":
            cv2 = importlib.import_module("cv2")
            fourcc = cv2.VideoWriter_fourcc(*"mp4v")
            self._handle = cv2.VideoWriter(str(self.tmp), fourcc, self.fps, (w, h))
            if not self._handle.isOpened():
                raise OSError("OpenCV cannot write mp4 video")
        else:
            iio = importlib.import_module("imageio.v2")
            self._handle = iio.get_writer(str(self.tmp), fps=self.fps, format="FFMPEG",
                                          macro_block_size=1)

    def close(self) -> None:
        """Finish the file and move it into place."""
        try:
            if self.backend == "av" and self._handle is not None:
                for packet in self._stream.encode():
                    self._handle.mux(packet)
                self._handle.close()
            elif self.backend == "cv2" and self._handle is not None:
                self._handle.release()
            elif self._handle is not None:
                self._handle.close()
            self._handle = None
            if self._size is None:
                raise OSError("no frames written")
            os.replace(self.tmp, self.path)
        finally:
            self.tmp.unlink(missing_ok=True)

    def abort(self) -> None:
        """Drop the partial file."""
        try:
            if self._handle is not None:
                if self.backend == "cv2":
                    self._handle.release()
                else:
                    self._handle.close()
        except Exception:  # noqa: BLE001, S110 - the file is deleted anyway
            pass
        self._handle = None
        self.tmp.unlink(missing_ok=True)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:160]

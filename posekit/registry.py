"""Entry-point registries: how the core discovers skeletons and parsers.

Plugins declare, the core discovers. A :class:`Registry` reads one entry-point group
lazily: :meth:`Registry.names` reads only package metadata; :meth:`Registry.get` imports a
single entry point; :meth:`Registry.load_all` imports everything and collects the failures
as :class:`PluginLoadError` records instead of raising, so one broken plugin never hides
the others. Built-ins are registered through the same groups in posekit's own metadata;
a plugin claiming a built-in's name is reported as a conflict and the built-in stays.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Generic, TypeVar

from posekit.errors import PluginError, PosekitError

__all__ = ["Registry", "PluginLoadError", "RegistryEntry", "closest"]

T = TypeVar("T")

BUILTIN_DISTRIBUTION = "posekit"  # the distribution whose entry points are the built-ins


@dataclass(frozen=True)
class PluginLoadError:
    """A plugin that failed to load: who, what, and how to fix it."""

    group: str
    name: str
    distribution: str
    version: str
    reason: str
    fix: str

    def message(self) -> str:
        source = f"{self.distribution} {self.version}".strip()
        return (f"{self.group} entry point {self.name!r} from {source}: {self.reason}. "
                f"Fix: {self.fix}")


@dataclass(frozen=True)
class RegistryEntry(Generic[T]):
    name: str
    distribution: str
    version: str
    value: T


def _dist(ep: EntryPoint) -> tuple[str, str]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return "an unknown distribution", "?"
    return dist.metadata["Name"] or "an unknown distribution", dist.version or "?"


def closest(name: str, choices: list[str]) -> str | None:
    """The valid name closest to a mistyped one, if any is close."""
    match = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
    return match[0] if match else None


class Registry(Generic[T]):
    """The plugins of one entry-point group.

    Args:
        group: entry-point group, e.g. ``"posekit.skeletons"``.
        kind: what an entry is called in messages (``"skeleton"``).
        validate: turns the loaded object into a ``T`` or raises ``TypeError`` /
            ``ValueError`` / :class:`PosekitError` saying why it is not one.
        fix: advice printed with a load failure.
    """

    def __init__(self, group: str, kind: str, validate: Callable[[str, object], T],
                 fix: str) -> None:
        self.group = group
        self.kind = kind
        self._validate = validate
        self._fix = fix
        self._cache: dict[str, RegistryEntry[T]] = {}

    # -- metadata only -----------------------------------------------------------
    def _entry_points(self) -> dict[str, list[EntryPoint]]:
        found: dict[str, list[EntryPoint]] = {}
        seen: set[tuple[str, str, str]] = set()
        for ep in entry_points(group=self.group):
            key = (ep.name, ep.value, _dist(ep)[0])
            if key in seen:  # the same distribution found twice on sys.path
                continue
            seen.add(key)
            found.setdefault(ep.name, []).append(ep)
        return found

    def names(self) -> list[str]:
        """Sorted names of every declared entry point (nothing is imported)."""
        return sorted(self._entry_points())

    # -- loading -----------------------------------------------------------------
    def _builtin_conflict(self, name: str,
                          eps: list[EntryPoint]) -> tuple[EntryPoint, PluginLoadError] | None:
        """(the built-in, the conflict record) when plugins claim a built-in's name."""
        builtin = [ep for ep in eps if _dist(ep)[0] == BUILTIN_DISTRIBUTION]
        if len(eps) < 2 or len(builtin) != 1:
            return None
        others = sorted({" ".join(_dist(ep)) for ep in eps if ep is not builtin[0]})
        own = " ".join(_dist(builtin[0]))
        return builtin[0], PluginLoadError(
            self.group, name, " and ".join(others), "",
            f"{self.kind} name {name!r} is built into {own} and also claimed by "
            f"{', '.join(others)}; the built-in {name!r} is used",
            f"rename the entry point in {', '.join(others)} (a plugin cannot replace a "
            "built-in), or uninstall it",
        )

    def _load(self, name: str, eps: list[EntryPoint]) -> RegistryEntry[T]:
        conflict = self._builtin_conflict(name, eps)
        if conflict is not None:
            eps = [conflict[0]]
        dists = sorted({_dist(ep)[0] for ep in eps})
        if len(eps) > 1:
            versions = sorted({" ".join(_dist(ep)) for ep in eps})
            raise _LoadFailure(PluginLoadError(
                self.group, name, " and ".join(versions), "",
                f"{self.kind} name {name!r} is claimed by {len(dists)} distributions "
                f"({', '.join(dists)})",
                "uninstall one of them, or rename the entry point in one",
            ))
        ep = eps[0]
        dist, version = _dist(ep)

        def fail(reason: str, fix: str = self._fix) -> _LoadFailure:
            return _LoadFailure(PluginLoadError(self.group, name, dist, version, reason, fix))

        try:
            obj = ep.load()
        except Exception as exc:  # a plugin may fail in any way; report it, never crash
            raise fail(
                f"import of {ep.value!r} failed: {type(exc).__name__}: {exc}",
                f"fix the import error in {dist}, reinstall it (pip install --force-reinstall "
                f"{dist}), or uninstall it (pip uninstall {dist})",
            ) from exc
        try:
            value = self._validate(name, obj)
        except (TypeError, ValueError, PosekitError) as exc:
            raise fail(f"{ep.value!r} is not a valid {self.kind}: {exc}") from exc
        return RegistryEntry(name, dist, version, value)

    def entry(self, name: str) -> RegistryEntry[T]:
        """Load one entry; raises :class:`PluginError` naming the plugin and the fix."""
        if name in self._cache:
            return self._cache[name]
        eps = self._entry_points()
        if name not in eps:
            raise PosekitError(self.unknown_message(name, list(eps)))
        try:
            entry = self._load(name, eps[name])
        except _LoadFailure as failure:
            raise PluginError(failure.error.message()) from failure.__cause__
        self._cache[name] = entry
        return entry

    def get(self, name: str) -> T:
        """The object registered as ``name``."""
        return self.entry(name).value

    def load_all(self) -> tuple[list[RegistryEntry[T]], list[PluginLoadError]]:
        """Every entry that loads, and a record for every one that does not."""
        good: list[RegistryEntry[T]] = []
        bad: list[PluginLoadError] = []
        for name, eps in sorted(self._entry_points().items()):
            conflict = self._builtin_conflict(name, eps)
            if conflict is not None:
                bad.append(conflict[1])
            if name in self._cache:
                good.append(self._cache[name])
                continue
            try:
                entry = self._load(name, eps)
            except _LoadFailure as failure:
                bad.append(failure.error)
                continue
            self._cache[name] = entry
            good.append(entry)
        return good, bad

    def unknown_message(self, name: str, valid: list[str] | None = None) -> str:
        valid = sorted(valid if valid is not None else self.names())
        msg = f"unknown {self.kind} {name!r}; installed: {', '.join(valid) or 'none'}"
        guess = closest(name, valid)
        if guess:
            msg += f". Did you mean {guess!r}?"
        return msg

    def clear_cache(self) -> None:
        self._cache.clear()


class _LoadFailure(Exception):
    def __init__(self, error: PluginLoadError) -> None:
        super().__init__(error.message())
        self.error = error

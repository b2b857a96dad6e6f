"""Multi-person parsers, discovered through the ``posekit.parsers`` entry-point group.

A parser entry point names a class or factory; calling it with keyword options gives an
object with ``__call__(candidates, skeleton) -> list[Person]`` (:class:`Parser`). Parsers
derived from :class:`BaseParser` also offer ``solve`` with status, objective and timing.
"""

from __future__ import annotations

import inspect
from typing import Any

from posekit.errors import PosekitError
from posekit.parsers.base import BaseParser, Parser, ParseResult, PostRules
from posekit.parsers.fragments import FragmentRules, refine_fragments
from posekit.parsers.objective import ObjectiveWeights, objective
from posekit.registry import Registry

__all__ = [
    "PARSERS", "BaseParser", "FragmentRules", "ObjectiveWeights", "Parser", "ParseResult",
    "PostRules", "get_parser", "list_parsers", "objective", "refine_fragments",
]


def _validate(name: str, obj: object) -> Any:
    if not callable(obj):
        raise TypeError(f"the entry point must name a parser class or factory, "
                        f"got {type(obj).__name__}")
    return obj


PARSERS: Registry[Any] = Registry(
    "posekit.parsers", "parser", _validate,
    fix="point the entry point at a class or factory whose instances are called as "
        "parser(candidates, skeleton) -> list[Person]",
)


def list_parsers() -> list[str]:
    """Names of the installed parsers (reads metadata only)."""
    return PARSERS.names()


def get_parser(parser: str | Parser, **options: Any) -> Parser:
    """A ready parser by name, built with ``options``.

    An option no installed parser takes (a typo) is an error listing this parser's options.
    One that only other installed parsers take (``time_limit`` for ``greedy``) is left out,
    so one set of options can build several parsers. Passing an already constructed parser
    returns it unchanged.
    """
    if not isinstance(parser, str):
        if callable(parser):
            return parser
        raise PosekitError(f"expected a parser name or object, got {parser!r}")
    factory = PARSERS.get(parser)
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        params = {}
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        _check_options(parser, list(params), options)
        options = {k: v for k, v in options.items() if k in params}
    try:
        made = factory(**options)
    except (TypeError, ValueError) as exc:
        raise PosekitError(f"parser {parser!r}: bad options {options}: {exc}") from None
    if not callable(made):
        raise PosekitError(f"parser {parser!r}: its factory returned a non-callable {made!r}")
    return made


def _check_options(name: str, accepted: list[str], options: dict[str, Any]) -> None:
    """Refuse options that neither parser ``name`` nor any other installed parser takes."""
    unknown = [k for k in options if k not in accepted]
    if not unknown:
        return
    others: set[str] = set()
    for entry in PARSERS.load_all()[0]:
        try:
            others.update(inspect.signature(entry.value).parameters)
        except (TypeError, ValueError):
            continue
    typos = sorted(k for k in unknown if k not in others)
    if not typos:
        return
    from posekit.registry import closest

    guess = closest(typos[0], accepted)
    raise PosekitError(
        f"parser {name!r} has no option {', '.join(map(repr, typos))}; its options: "
        f"{', '.join(accepted) or 'none'}{f'. Did you mean {guess!r}?' if guess else ''}")

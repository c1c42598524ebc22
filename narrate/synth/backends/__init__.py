"""Backend registry: names mapped to lazily imported factories.

Built-in backends and third-party ones (the ``narrate.backends`` entry-point group) are found the
same way; nothing is imported until a backend is asked for, so ``narrate --help`` loads no engine.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from narrate.errors import BackendError
from narrate.synth.backends.base import Audio, Backend, VoiceInfo

__all__ = ["Audio", "Backend", "VoiceInfo", "available", "create", "register"]

ENTRY_POINT_GROUP = "narrate.backends"

#: Built-in backends: name -> ("module:attribute", pip extra that provides its dependencies).
_BUILTIN: dict[str, tuple[str, str | None]] = {
    "pyttsx3": ("narrate.synth.backends.pyttsx3:Pyttsx3Backend", None),
    "piper": ("narrate.synth.backends.piper:PiperBackend", "piper"),
}

#: Factories registered at run time (tests register their fake backend here).
_REGISTERED: dict[str, Callable[[], Backend]] = {}


def register(name: str, factory: Callable[[], Backend]) -> None:
    """Register a backend factory under ``name`` (used by tests and embedding applications)."""
    _REGISTERED[name] = factory


def unregister(name: str) -> None:
    """Remove a backend registered with :func:`register`."""
    _REGISTERED.pop(name, None)


def _entry_points() -> dict[str, str]:
    # Imported here: worker processes import this package and never need entry points.
    from importlib.metadata import entry_points

    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def available() -> list[str]:
    """Return every backend name known: built-in, registered and installed plugins."""
    return sorted({*_BUILTIN, *_REGISTERED, *_entry_points()})


def _load(target: str) -> Callable[[], Backend]:
    module, _, attr = target.partition(":")
    obj = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj  # type: ignore[return-value]


def factory(name: str) -> Callable[[], Backend]:
    """Return the factory for backend ``name`` without instantiating it."""
    if name in _REGISTERED:
        return _REGISTERED[name]
    target: str | None = None
    extra: str | None = None
    if name in _BUILTIN:
        target, extra = _BUILTIN[name]
    else:
        target = _entry_points().get(name)
    if target is None:
        known = ", ".join(available())
        raise BackendError(f"unknown backend {name!r}; available backends: {known}")
    try:
        return _load(target)
    except ImportError as exc:
        if extra:
            raise BackendError(
                f"backend {name!r} needs extra packages ({exc.name or exc}): "
                f"run  pip install 'narrate[{extra}]'"
            ) from exc
        raise BackendError(f"backend {name!r} could not be imported: {exc}") from exc


def create(name: str) -> Backend:
    """Instantiate backend ``name``."""
    return factory(name)()

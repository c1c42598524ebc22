"""The espeak-ng library pyttsx3 will load: the bundled one (espeakng-loader) or the system's.

pyttsx3 dlopens ``libespeak-ng.so.1`` by name, so the chosen library is loaded first, with its
data path checked (espeak-ng calls ``exit(1)`` when its data is missing). Starts no engine.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from narrate.errors import EnvironmentProblem
from narrate.versions import dist_version

__all__ = ["ENV_SWITCH", "SYSTEM_SONAME", "engine_info"]

ENV_SWITCH = "NARRATE_ESPEAK"
"""Unset (or ``bundled``): espeakng-loader's library; ``system``: the OS one."""

SYSTEM_SONAME = "libespeak-ng.so.1"
"""What pyttsx3 dlopens first on Linux; also the soname of the bundled library."""

# Files espeak-ng reads in espeak_Initialize(); if any is missing it calls exit(1) rather than
# returning an error, which would kill a worker (or the CLI) without a message.
_REQUIRED_DATA = ("phontab", "phondata", "phonindex", "voices")


@dataclass(frozen=True)
class _Library:
    """Which espeak-ng library to load and where its data lives."""

    kind: str
    """``bundled`` or ``system``."""
    path: str
    """What to dlopen: a file path (bundled) or a soname (system)."""
    data_path: str | None
    """Value for ``ESPEAK_DATA_PATH``; None keeps the environment's or the library's default."""
    loader_version: str | None
    """The distribution whose version names the bundled library (looked up when needed)."""
    """espeakng-loader's version for the bundled library."""


def _choose_library() -> _Library:
    """Decide between the bundled and the system library from ``NARRATE_ESPEAK``."""
    choice = os.environ.get(ENV_SWITCH, "").strip().lower()
    if choice == "system":
        return _Library("system", SYSTEM_SONAME, os.environ.get("ESPEAK_DATA_PATH"), None)
    if choice not in ("", "bundled"):
        raise EnvironmentProblem(
            f"{ENV_SWITCH}={choice!r} is not understood: set it to 'system' to use the system "
            "espeak-ng, or unset it to use the one bundled with espeakng-loader"
        )
    try:
        import espeakng_loader
    except ImportError as exc:
        raise EnvironmentProblem(
            "the bundled espeak-ng is missing: run  pip install espeakng-loader  "
            f"(or set {ENV_SWITCH}=system to use the system library)"
        ) from exc
    lib_path = str(espeakng_loader.get_library_path())
    try:
        data_path = str(espeakng_loader.get_data_path())
    except RuntimeError as exc:
        raise EnvironmentProblem(
            f"espeakng-loader's data folder is missing ({exc}): reinstall it with  "
            "pip install --force-reinstall espeakng-loader"
        ) from exc
    return _Library("bundled", lib_path, data_path, "espeakng-loader")


_DLL_LOCK = threading.Lock()
_LOADED: tuple[_Library, ctypes.CDLL] | None = None


def _dlopen(lib: _Library) -> ctypes.CDLL:
    """Load the library (once per process) without initialising espeak.

    dlopen alone starts no threads and reads no data, so it is safe in a parent that later
    starts worker processes. RTLD_GLOBAL matters for the bundled copy: pyttsx3 then asks for
    the soname ``libespeak-ng.so.1`` and the dynamic loader hands back this copy (same soname)
    instead of searching the system.
    """
    global _LOADED
    with _DLL_LOCK:
        if _LOADED is not None:
            loaded, dll = _LOADED
            if (loaded.kind, loaded.path) != (lib.kind, lib.path):
                # Both libraries have the soname libespeak-ng.so.1: once one is loaded, the
                # dynamic loader (and pyttsx3) would silently hand it out for the other.
                raise EnvironmentProblem(
                    f"the {loaded.kind} espeak-ng library is already loaded in this process; "
                    f"{ENV_SWITCH} cannot switch to the {lib.kind} one until narrate restarts"
                )
            return dll
        if lib.kind == "bundled" and not Path(lib.path).is_file():
            raise EnvironmentProblem(
                f"the bundled espeak-ng library {lib.path} is missing: reinstall espeakng-loader"
            )
        try:
            dll = ctypes.CDLL(lib.path, mode=ctypes.RTLD_GLOBAL)
        except OSError as exc:
            if lib.kind == "system":
                raise EnvironmentProblem(
                    f"{ENV_SWITCH}=system but the system espeak-ng library ({SYSTEM_SONAME}) "
                    f"cannot be loaded ({exc}): run  apt-get install libespeak-ng1  or unset "
                    f"{ENV_SWITCH} to use the bundled one"
                ) from exc
            raise EnvironmentProblem(
                f"the bundled espeak-ng library {lib.path} cannot be loaded ({exc}): "
                "reinstall espeakng-loader"
            ) from exc
        dll.espeak_Info.restype = ctypes.c_char_p
        dll.espeak_Info.argtypes = [ctypes.POINTER(ctypes.c_char_p)]
        dll.espeak_ng_InitializePath.restype = None
        dll.espeak_ng_InitializePath.argtypes = [ctypes.c_char_p]
        _LOADED = (lib, dll)
        return dll


def _library_version(dll: ctypes.CDLL) -> str:
    version: bytes | None = dll.espeak_Info(None)
    return version.decode() if version else "unknown"


def _data_path(dll: ctypes.CDLL, lib: _Library) -> str:
    """Return the data folder espeak_Initialize() will use, after checking it is complete.

    Never call it while this process's engine runs: re-resolving would rewrite the path under
    a synthesis in progress (the backend asks its running engine instead).
    """
    # espeak_ng_InitializePath only resolves the path (argument, else ESPEAK_DATA_PATH, else
    # the compiled-in default); espeak_Initialize repeats it, so calling it early is harmless.
    arg = lib.data_path.encode() if lib.data_path else None
    dll.espeak_ng_InitializePath(arg)
    found = ctypes.c_char_p()
    dll.espeak_Info(ctypes.byref(found))
    path = found.value.decode() if found.value else (lib.data_path or "")
    missing = [name for name in _REQUIRED_DATA if not (Path(path) / name).exists()]
    if not path or missing:
        if lib.kind == "system":
            hint = f"run  apt-get install espeak-ng-data  or unset {ENV_SWITCH}"
        else:
            hint = "reinstall espeakng-loader"
        raise EnvironmentProblem(
            f"espeak-ng data folder {path or '(none)'} is incomplete "
            f"(missing {', '.join(missing) or 'everything'}): {hint}"
        )
    return path


def _loaded_file(name: str) -> str:
    """Return the file a loaded soname came from (Linux), else the name itself."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/maps").read_text().splitlines():
            if "libespeak-ng" in line and "/" in line:
                return line[line.index("/") :]
    return name


def engine_info() -> dict[str, str]:
    """Describe the espeak-ng this backend would use, for ``narrate doctor`` (starts no engine)."""
    lib = _choose_library()
    dll = _dlopen(lib)
    return {
        "library": lib.kind,
        "library path": _loaded_file(lib.path) if lib.kind == "system" else lib.path,
        "espeak-ng version": _library_version(dll),
        "data path": _data_path(dll, lib),
        "pyttsx3 version": dist_version("pyttsx3"),
        **(
            {"espeakng-loader version": dist_version(lib.loader_version)}
            if lib.loader_version
            else {}
        ),
    }

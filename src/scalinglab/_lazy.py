"""Module-level ``__getattr__`` for names a package exposes without importing them up front."""

from __future__ import annotations

import importlib


def lazy_attributes(package: str, names: dict[str, str]):
    """A ``__getattr__`` (PEP 562) that imports ``names[attr]`` and returns its ``attr`` on first use.

    It keeps ``import scalinglab`` (and ``import scalinglab.train``) light: torch, Ray and
    matplotlib load only when a name that needs them is touched.

    Parameters
    ----------
    package : str
        The package's ``__name__``, for the error message.
    names : dict
        Attribute name -> module that defines it.
    """

    def __getattr__(name: str):
        if name in names:
            return getattr(importlib.import_module(names[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__


def lazy_dir(module_globals: dict, names: dict[str, str]):
    """A module-level ``__dir__`` (PEP 562) listing the lazy names beside the loaded ones, so that
    ``dir(scalinglab)`` and a notebook's tab completion show the whole public API."""

    def __dir__() -> list[str]:
        return sorted(set(module_globals) | set(names))

    return __dir__

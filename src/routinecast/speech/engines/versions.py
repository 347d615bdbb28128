"""Installed package versions for engine identities, without ``importlib.metadata``.

An engine's identity (part of every clip's cache key) names the versions of the
packages that make its sound, so ``plan`` needs them too. ``importlib.metadata``
costs 10 to 30 ms to import (email, zipfile, csv...), a tenth of ``plan``'s budget;
an installed wheel's version is already in its ``<name>-<version>.dist-info`` folder's
name (the wheel format names it so), found on ``sys.path`` in import order. Anything
else (an egg, an unusual layout) falls back to ``importlib.metadata``.
"""

from __future__ import annotations

import os
import re
import sys
from functools import cache

MISSING = "missing"
_SUFFIX = ".dist-info"


@cache
def installed_version(package: str) -> str:
    """``package``'s installed version, or ``MISSING``."""
    wanted = _normal(package)
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.endswith(_SUFFIX):
                dist, _, version = name[: -len(_SUFFIX)].rpartition("-")
                if version and _normal(dist) == wanted:
                    return version
    return _from_metadata(package)


def _normal(name: str) -> str:
    """A distribution name compared as packaging does: case and ``-_.`` runs ignored."""
    return re.sub(r"[-_.]+", "_", name).lower()


def _from_metadata(package: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return MISSING

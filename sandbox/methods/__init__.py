"""The Bot API methods the sandbox answers, one module per method group.

Each module registers its handlers with :func:`sandbox.core.api_method` when it is imported.
:func:`load_method_groups` imports every module in this package, so a new method group
(payments, say) is a new file here and nothing else: no list to extend.
"""

from __future__ import annotations

import importlib
import pkgutil


def load_method_groups() -> tuple[str, ...]:
    """Import every method module of this package; returns their names, sorted."""
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    for name in names:
        importlib.import_module(f"{__name__}.{name}")
    return tuple(names)

"""cargotrace: trace illicit cargo from leaked logistics records to vessel arrivals.

The library API is `cargotrace.open_case(path)` (cargotrace/api.py), loaded on first use so
that `import cargotrace.<module>` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["CaseSession", "__version__", "open_case"]

if TYPE_CHECKING:
    from cargotrace.api import CaseSession, open_case


def __getattr__(name: str) -> Any:
    if name in ("open_case", "CaseSession"):
        from cargotrace import api

        return getattr(api, name)
    raise AttributeError(f"module 'cargotrace' has no attribute {name!r}")

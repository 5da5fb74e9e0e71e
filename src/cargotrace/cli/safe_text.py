"""Text from files made safe to print on a terminal.

Cargo descriptions, file names and the other text cargotrace echoes come from untrusted
files: an ESC or OSC sequence in them could recolour, retitle or rewrite the investigator's
terminal, and `[...]` in them would be read as rich markup. `clean` shows every control
character (C0, DEL, C1, and the bidirectional overrides that reorder a line) as a visible
escape such as `\\x1b`; `literal` also escapes rich markup, for text placed inside a marked-up
message. `SafeConsole` applies `clean` to every string it prints, as a net under both.
"""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(text: object) -> str:
    """`text` with control characters (except newline and tab) shown as escapes."""
    return _CONTROL.sub(_visible, str(text))


def literal(text: object) -> str:
    """`text` cleaned and escaped for rich markup: printed exactly as written."""
    return escape(clean(text))


def cell(text: object) -> Text:
    """A table cell of untrusted text: cleaned, never read as markup."""
    return Text(clean(text))


class SafeConsole(Console):
    """A rich console that never passes a raw control character of a string to the terminal."""

    def print(self, *objects: Any, **options: Any) -> None:
        super().print(*(clean(o) if isinstance(o, str) else o for o in objects), **options)


def json_clean(text: str) -> str:
    """JSON text with every control character written as a JSON escape (`\\u001b`): still
    the same JSON, and safe on a terminal."""
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)

"""Expected values for the ICTRP fidelity tests, computed from the source with the cleaning rule the maps document
(docs/ictrp-mapping.md), written out here again rather than imported from the readers, so a test can fail when a
reader departs from the rule."""

from __future__ import annotations

import re


def cleaned(text: str | None) -> str:
    """HTML line breaks as line breaks, trailing spaces and the common indentation gone, the whole trimmed."""
    text = re.sub(r"\r?<br\s*/?>\r?|\r\n|\r|</p>", "\n", text or "", flags=re.IGNORECASE).replace("<p>", "")
    lines = [line.rstrip() for line in text.split("\n")]
    indent = min((len(x) - len(x.lstrip()) for x in lines if x.strip()), default=0)
    return "\n".join(x[indent:] for x in lines).strip()


def items(text: str | None) -> list[str]:
    """The `;`-separated items of a cleaned field, trimmed, empty ones and repeats (ignoring case) left out."""
    out: list[str] = []
    for piece in cleaned(text).split(";"):
        if piece.strip() and piece.strip().casefold() not in {o.casefold() for o in out}:
            out.append(piece.strip())
    return out

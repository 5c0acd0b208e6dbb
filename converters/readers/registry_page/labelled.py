"""'Label: value' and 'Label | value |' lines as the generic rules read them (a page of no known layout), and as
the evidence rule counts them (is this text a study page at all?)."""

from __future__ import annotations

from converters.readers.registry_page.pipe import cells_of

_LABEL_WORDS = 6  # a label is a short phrase: longer ones are prose that happens to hold a colon
_LABEL_CHARS = 60


def label_value(text: str) -> tuple[str, str] | None:
    """The label and value a line states, or None when it is not a labelled value."""
    if "|" in text:
        cells = cells_of(text)
        if len(cells) >= 2 and cells[0] and any(cells[1:]):
            label, value = cells[0], " | ".join(c for c in cells[1:] if c)
        else:
            return None
    elif ":" in text:
        label, _, value = text.partition(":")
    else:
        return None
    label, value = label.strip(), value.strip()
    if not label or not value or len(label) > _LABEL_CHARS or len(label.split()) > _LABEL_WORDS:
        return None
    if not label[0].isalpha() or "://" in text[: len(label) + 3]:
        return None
    return label, value

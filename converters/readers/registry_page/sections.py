"""Split a page into the sections of its layout, by headings that fill a whole line."""

from __future__ import annotations

from dataclasses import dataclass, field

from converters.readers.registry_page.duplicates import squeeze
from converters.readers.registry_page.page import Line
from converters.readers.registry_page.rules import LayoutRule, SectionRule


@dataclass
class PageSection:
    rule: SectionRule
    heading: Line | None  # None for the page header (lines before the first heading)
    lines: list[Line] = field(default_factory=list)
    separators: set[int] = field(default_factory=set)  # line numbers of list separators (markup)

    @property
    def title(self) -> str:
        return self.heading.stripped if self.heading else "page header"

    def content_key(self) -> str:
        return squeeze("\n".join(line.text for line in self.lines if line.no not in self.separators))


def split_sections(lines: list[Line], layout: LayoutRule, separators: set[int]) -> list[PageSection]:
    """The header (if the layout reads one) and each headed section, with their content lines."""
    sections: list[PageSection] = []
    current: PageSection | None = None
    if layout.header is not None:
        current = PageSection(layout.header, None)
        sections.append(current)
    for line in lines:
        rule = layout.heading_index.get(line.norm)
        if rule is not None:
            current = PageSection(rule, line)
            sections.append(current)
            continue
        if current is None:
            continue  # before the first heading, in a layout without a header: left unmapped
        current.lines.append(line)
        if line.no in separators:
            current.separators.add(line.no)
    return sections

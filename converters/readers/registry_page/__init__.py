"""The registry-page reader: scraped trial pages (registry mirrors, patient sites) saved as plain text.

A page's layout is recognised from its labels and headings (`mappings/registry_page/layouts.yaml`), never
from its file name; each layout names the parser of each section. Every value gets the line span it came
from (`Study.provenance`), every unused non-blank line is listed with a reason (`Study.unmapped`), and
everything odd on the page (a repeated block, characters lost in encoding, an empty section, a cut-off
end) is a `Problem` in `Study.problems`. Bad input never raises.
"""

from converters.readers.registry_page.coverage import line_coverage
from converters.readers.registry_page.reader import RegistryPageReader, read_page

READER = RegistryPageReader()

__all__ = ["READER", "RegistryPageReader", "line_coverage", "read_page"]

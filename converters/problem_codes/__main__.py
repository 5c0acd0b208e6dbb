"""Print the problem catalogue as Markdown."""

from converters.problem_codes import all_kinds, render_markdown

print(render_markdown(all_kinds()), end="")

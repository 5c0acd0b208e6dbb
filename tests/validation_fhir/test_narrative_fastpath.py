"""The one-pass narrative check gives exactly the tree-building checks' answers (it is only an optimisation)."""

from __future__ import annotations

import pytest

from converters.targets.fhir.validator import narrative

X = 'xmlns="http://www.w3.org/1999/xhtml"'

DIVS = [
    f"<div {X}><p>text</p></div>",
    f"<div {X}>   </div>",
    f"<div {X}>&#160;</div>",  # str.strip() removes a no-break space: no text
    f"<div {X}><p> </p>\n<p>\t</p></div>",
    f'<div {X}><img src="#a" alt="a"/></div>',
    f"<div {X}><!-- a comment only --></div>",
    f"<div {X}><?pi text?></div>",
    f"<div {X}><![CDATA[cdata text]]></div>",
    f"<div {X}><![CDATA[   ]]></div>",
    f'<div {X} xml:lang="en">x</div>',
    f'<div {X} xmlns:o="urn:o" o:lang="en">x</div>',
    f'<div {X}><p xmlns="urn:other">x</p></div>',
    f"<div {X}><o:p>unbound prefix</o:p></div>",
    f"<div {X}><P>upper case</P></div>",
    f"<div {X}><script>x</script></div>",
    f'<div {X}><p onclick="x()">x</p></div>',
    f'<div {X}><a href="h" name="n">x</a><td colspan="2">x</td></div>',
    f'<div {X}><table summary="s" border="1"><tr><td align="left">x</td></tr></table></div>',
    f'<div {X}><p summary="s">not for p</p></div>',
    f"<p {X}>not a div</p>",
    "<div><p>no namespace</p></div>",
    f"<div {X}><p>unclosed</div>",
    f"<div {X}>&nbsp;</div>",
    f"<div {X}>&amp; &lt; &#x27;</div>",
    f'<!DOCTYPE div><div {X}>x</div>',
    f'<!DOCTYPE x [<!ENTITY e "x">]><div {X}>&e;</div>',
    f'<?xml version="1.0"?><div {X}>x</div>',
    f'<?xml version="1.0" encoding="ISO-8859-1"?><div {X}>x</div>',
    f"<div {X}>x</div>trailing",
    f"<div {X}>x</div><div {X}>y</div>",
    "",
    "   ",
    "plain text",
    f"<div {X}></div>",
    f"<div {X}/>",
    f'<div {X}><div><span class="c" style="s">nested</span></div></div>',
]


@pytest.mark.parametrize("div", DIVS)
def test_one_pass_gives_the_tree_checks_answers(div: str) -> None:
    narrative.narrative_problems.cache_clear()
    assert narrative.narrative_problems(div) == (narrative.structure_problem(div), narrative.content_problem(div))


def test_the_one_pass_decides_plain_narratives() -> None:
    """Fine narratives are decided by the one pass alone (else the optimisation would be vacuous)."""
    assert narrative._plainly_fine(f'<div {X}><p><b>A</b></p><table><tr><td colspan="2">x</td></tr></table></div>')
    assert not narrative._plainly_fine(f"<div {X}> </div>")

"""`python -m converters`: the same command line as the `trialbridge` script, under the same name."""

from converters.cli import app

app(prog_name="trialbridge")

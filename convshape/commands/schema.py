"""`convshape schema`: the JSON Schemas of the outputs."""

from enum import Enum

import typer

from .common import _write


SCHEMA_EPILOG = """\
Examples:

  convshape schema > convshape.schema.json

  convshape calc -i 224 conv k3 --format json | check-jsonschema --schemafile convshape.schema.json -

  convshape schema fit > fit.schema.json
"""


class SchemaOf(str, Enum):
    calc = "calc"
    fit = "fit"
    solve = "solve"


def schema(
    command: SchemaOf = typer.Argument(
        SchemaOf.calc, metavar="COMMAND", case_sensitive=False, help="calc, fit or solve: the command whose --format json output it describes."
    ),
) -> None:
    """Print the JSON Schema that `calc --format json` output follows (or fit's, or solve's)."""
    from ..schemas import schema_text

    _write(schema_text(command.value))

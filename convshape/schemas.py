"""The JSON Schemas of what ``calc``, ``fit`` and ``solve`` print with ``--format json``.

One file, ``schema.json``, holds every definition; it is calc's schema as it stands,
and fit's and solve's are the same definitions with their own root.
"""

from __future__ import annotations

COMMANDS = ("calc", "fit", "solve")


def schema_text(command: str = "calc") -> str:
    """The schema for ``command``'s JSON output, as JSON text.

    >>> import json
    >>> json.loads(schema_text("fit"))["$ref"]
    '#/$defs/fit'
    """
    from importlib.resources import files

    text = files("convshape").joinpath("schema.json").read_text(encoding="utf-8")
    if command == "calc":
        return text
    if command not in COMMANDS:
        raise ValueError(f"no schema for {command!r}: one of {', '.join(COMMANDS)}")
    import json

    calc = json.loads(text)
    definitions = calc["$defs"]
    document = {
        "$schema": calc["$schema"],
        "$id": calc["$id"].replace("/calc-", f"/{command}-"),
        "title": f"convshape {command} --format json",
        "description": definitions[command]["description"],
        "$ref": f"#/$defs/{command}",
        "$defs": definitions,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"

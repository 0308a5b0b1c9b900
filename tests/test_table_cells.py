"""The table's one-line cells (render/fixed_table.py's Line) and the fixed-width table
that draws a table that fits (FixedTable) are shortcuts through Rich, not a layout of
their own: the table must be the very one Rich draws from plain ``Text`` cells with its
own padding, colours and box included, at every width."""

import io
from pathlib import Path

import pytest
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from convshape import calc
from convshape.counts import count
from convshape.render.fixed_table import FixedTable
from convshape.render.table import COLUMNS, HEADERS, _cells, build

EXAMPLES = Path(__file__).parent.parent / "examples"

RESULTS = {
    "resnet50": calc((EXAMPLES / "resnet50.stack").read_text(), 224, channels=3),
    "diagnostics": calc("conv k3 s2 c16, maxpool k3 s2 p1 ceil, conv k1 s3 c8, up s1.5, convt k3 s2 p1 op1", 17, channels=3),
    "invalid": calc("conv k3 c8, conv k9 s2, conv k3, flatten, linear c10", 9, channels=3),
    "flat": calc("flatten, linear c10, linear c2", 4, channels=2),
}
COSTS = {name: count(result) for name, result in RESULTS.items()}


def rich_table(result, explain, wrap, shown):
    """The table drawn the plain way: Text cells, Rich measures, wraps and pads them."""
    table = Table(title=None, show_lines=explain, header_style="bold")
    for name, justify in COLUMNS:
        if name in shown:
            layer = name == "layer"
            folds = layer and (wrap or explain)
            table.add_column(HEADERS.get(name, name), justify=justify, no_wrap=not folds, overflow="fold", min_width=10 if layer else None)
    for row in result.rows:
        cells = _cells(result, row, explain, COSTS[name_of(result)])
        table.add_row(*[Text(cell) if isinstance(cell, str) else cell for cell in (cells.get(name, "") for name in shown)])
    return table


def name_of(result):
    return next(name for name, value in RESULTS.items() if value is result)


class AsciiOut(io.StringIO):
    encoding = "ascii"  # as a terminal whose locale is C: Rich draws an ASCII box


def drawn(table, width, colour, ascii=False):
    out = AsciiOut() if ascii else io.StringIO()
    console = Console(file=out, width=width, force_terminal=colour, color_system="truecolor" if colour else None,
                      highlight=False)
    console.print(table)
    return out.getvalue()


ALL = [name for name, _ in COLUMNS]


@pytest.mark.parametrize("name", RESULTS)
@pytest.mark.parametrize("explain", [False, True])
@pytest.mark.parametrize("wrap", [False, True])
@pytest.mark.parametrize("width", [300, 120, 90, 70, 50, 30])
def test_the_table_is_the_one_rich_draws_from_text_cells(name, explain, wrap, width):
    """For every table render() draws: one that fits the width (one that does not is drawn at its natural width)."""
    result = RESULTS[name]
    compared = 0
    for shown in [ALL, ["#", "layer", "in", "out", "rf"], ["#", "layer", "out"]]:
        table = build(result, explain, wrap=wrap, shown=list(shown), costs=COSTS[name])
        console = Console(width=width)
        natural = Measurement.get(console, console.options.update_width(100_000), table)
        if natural.minimum > width:
            width = natural.maximum  # render() draws it at its natural width, for the terminal to wrap
        for colour, ascii in [(False, False), (True, False), (False, True)]:
            table = build(result, explain, wrap=wrap, shown=list(shown), costs=COSTS[name])
            ours = FixedTable.fitting(table, width) or table  # what render() prints
            assert drawn(ours, width, colour, ascii) == drawn(rich_table(result, explain, wrap, shown), width, colour, ascii)
            assert colour or max(map(len, drawn(ours, width, colour, ascii).splitlines())) <= width
            compared += 1
    assert compared


def test_a_table_that_fits_is_drawn_at_fixed_widths_and_one_that_does_not_by_rich():
    result = RESULTS["diagnostics"]
    table = build(result, explain=True, wrap=True, shown=ALL, costs=COSTS["diagnostics"])
    width = FixedTable(table).__rich_measure__(None, None).maximum
    assert isinstance(FixedTable.fitting(table, width), FixedTable)
    assert FixedTable.fitting(table, width - 1) is None  # the layer column folds: Rich lays it out


def test_the_comparison_can_fail():
    result = RESULTS["diagnostics"]
    plain = rich_table(result, False, False, ALL)
    plain.columns[2].justify = "left"
    ours = FixedTable.fitting(build(result, costs=COSTS["diagnostics"], shown=ALL), 200)
    assert isinstance(ours, FixedTable)
    assert drawn(ours, 200, True) != drawn(plain, 200, True)


@pytest.mark.parametrize("justify", ["left", "right"])
@pytest.mark.parametrize("room", [3, 6, 11, 20])
def test_a_line_given_too_little_room_folds_as_text_does(justify, room):
    from rich.padding import Padding

    from convshape.render.fixed_table import Line

    out, expected = (Console(file=io.StringIO(), width=room, force_terminal=True, color_system="truecolor")
                     for _ in range(2))
    out.print(Line("2048×28×28", "bold red"), justify=justify, overflow="fold")
    expected.print(Padding(Text("2048×28×28", "bold red"), (0, 1)), justify=justify, overflow="fold")
    assert out.file.getvalue() == expected.file.getvalue()


def test_the_fixed_table_follows_rich_in_every_part_of_the_box_and_in_tall_cells():
    """A box whose every part is its own character, a two-line header (Rich aligns it to the
    bottom) and two-line body cells (to the top): drawn as Rich draws them."""
    from rich import box
    from rich.padding import Padding

    from convshape.render.fixed_table import Line

    every_part = box.Box("abcd\nefgh\nijkl\nmnop\nqrst\nuvwx\nyzAB\nCDEF\n")
    for show_lines in (False, True):
        tables = []
        for fixed in (True, False):
            table = Table(box=every_part, show_lines=show_lines, header_style="bold", padding=0)

            def cell(text, style=""):
                return Line(text, style) if fixed and "\n" not in text else Padding(Text(text, style), (0, 1))

            for header, justify in (("#", "right"), ("two\nlines", "left"), ("out", "right")):
                table.add_column(cell(header), justify=justify, no_wrap=True)
            for number in range(1, 4):
                table.add_row(cell(str(number)), cell("conv k3\nsecond line" if number == 2 else "relu"),
                              cell("8×8", "bold red" if number == 3 else ""))
            tables.append(table)
        ours = FixedTable(tables[0])
        width = ours.__rich_measure__(None, None).maximum
        assert drawn(ours, width, True) == drawn(tables[1], width, True)

"""`convshape draw`: pictures, checked as pictures.

The SVG is parsed as XML and rendered by a real renderer (cairosvg, the extra
convshape[draw]); the tests read pixels back at known places. Receptive fields are
compared with the ones PyTorch's gradients gave for the graph golden cases.
"""

import io
import json
import re
from math import log2
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import ROOT, have
from convshape.cli import app

runner = CliRunner()
SVG = "{http://www.w3.org/2000/svg}"
ALLOWED = {"svg", "title", "rect", "text", "g", "animate", "defs", "marker", "path", "line", "circle"}
# The colours the README's legend names (convshape/draw/__init__.py).
UNREAD, PADDING, REAL, WINDOW = (0xF2, 0x8C, 0x28), (0xD9, 0xD9, 0xD9), (0xFF, 0xFF, 0xFF), (0x2F, 0x6F, 0xD6)


def renderer_ready() -> bool:
    if not have("cairosvg"):
        return False
    try:
        import cairosvg  # noqa: F401  (it loads the cairo library, which the system provides)
    except OSError:
        return False
    return True


needs_renderer = pytest.mark.skipif(not renderer_ready(), reason="cairosvg and the cairo library are not installed")


def draw(*args):
    return runner.invoke(app, ["draw", *args])


def svg_of(*args) -> ET.Element:
    result = draw(*args, "-o", "-")
    assert result.exit_code in (0, 1), result.stderr
    root = ET.fromstring(result.stdout)  # well-formed, or this raises
    assert root.tag == SVG + "svg"
    assert {element.tag.removeprefix(SVG) for element in root.iter()} <= ALLOWED
    return root


def render(*args):
    """The picture as pixels (RGB), rendered by cairosvg, and the SVG it came from."""
    import cairosvg
    from PIL import Image

    root = svg_of(*args)
    shown = ET.fromstring(ET.tostring(root))
    for parent in shown.iter():  # the grids' own colours: without the animation's first window over them
        for group in [g for g in parent if g.get("class") == "frame" and g.find(SVG + "animate") is not None]:
            parent.remove(group)
    png = cairosvg.svg2png(bytestring=ET.tostring(shown))
    return Image.open(io.BytesIO(png)).convert("RGB"), root


def cells(root: ET.Element, group: str, cls: str) -> list[ET.Element]:
    container = next(g for g in root.iter(SVG + "g") if g.get("id") == group)
    return [r for r in container.iter(SVG + "rect") if cls in r.get("class", "").split()]


def centre(rect: ET.Element) -> tuple[int, int]:
    return (int(float(rect.get("x")) + float(rect.get("width")) / 2),
            int(float(rect.get("y")) + float(rect.get("height")) / 2))


def close(pixel, colour, tolerance=6) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour))


# ----------------------------------------------------------------------------- one layer

@pytest.mark.parametrize("size, stack, frames", [
    ("7", "conv k3 s2", 9),  # the seed article: 7×7, k3, s2, p0 → 3×3
    ("6", "conv k3 s1", 16),  # 6×6 → 4×4
    ("6", "conv k3 s2", 4),  # 6×6 → 2×2, the last row and column never read
    ("5", "convt k3 s2 p1", 81),  # 5 → 9
    ("9", "maxpool k3 s2 p1 ceil", 25),
    ("12", "conv k3 d2", 64),
])
def test_a_layer_picture_has_one_frame_per_output_position(size, stack, frames):
    root = svg_of("-i", size, stack)
    found = [g for g in root.iter(SVG + "g") if g.get("class") == "frame"]
    assert len(found) == frames
    assert [g.get("id") for g in found] == [f"frame{n}" for n in range(1, frames + 1)]
    assert all(g.find(SVG + "animate") is not None for g in found)  # they take turns


@needs_renderer
def test_the_pixels_floor_rounding_drops_are_in_the_warning_colour():
    image, root = render("-i", "6", "conv k3 s2")
    unread = cells(root, "input", "unread")
    assert len(unread) == 11  # the last row and the last column of 6×6
    for rect in unread:
        assert close(image.getpixel(centre(rect)), UNREAD)
    rows = sorted({float(r.get("y")) for r in cells(root, "input", "cell")})
    columns = sorted({float(r.get("x")) for r in cells(root, "input", "cell")})
    last = {(float(r.get("x")), float(r.get("y"))) for r in unread}
    assert last == {(columns[-1], y) for y in rows} | {(x, rows[-1]) for x in columns}
    read = [r for r in cells(root, "input", "real") if "unread" not in r.get("class")]
    assert len(read) == 25 and all(close(image.getpixel(centre(r)), REAL) for r in read)


@needs_renderer
def test_nothing_is_marked_where_every_pixel_is_read():
    image, root = render("-i", "7", "conv k3 s2")  # (7 − 3) mod 2 = 0
    assert cells(root, "input", "unread") == []
    assert not any(close(image.getpixel((x, y)), UNREAD) for x in range(0, image.width, 3)
                   for y in range(0, image.height, 3))


@needs_renderer
def test_padding_is_drawn_apart_around_the_input():
    image, root = render("-i", "4", "conv k3 p1")
    pad = cells(root, "input", "pad")
    assert len(pad) == 6 * 6 - 4 * 4  # a ring of one around 4×4
    for rect in pad:
        assert close(image.getpixel(centre(rect)), PADDING)
    xs = sorted({float(r.get("x")) for r in cells(root, "input", "cell")})
    assert {float(r.get("x")) for r in cells(root, "input", "real")} == set(xs[1:-1])


@needs_renderer
def test_outputs_that_see_only_padding_are_in_the_warning_colour():
    image, root = render("-i", "3", "conv k1 p1")  # the ring of outputs reads only padding
    alone = cells(root, "output", "padding-only")
    assert len(alone) == 5 * 5 - 3 * 3
    for rect in alone:
        assert close(image.getpixel(centre(rect)), UNREAD)


@needs_renderer
def test_a_frame_alone_shows_its_window_taps_spaced_by_the_dilation():
    image, root = render("-i", "7", "conv k3 d2", "--frame", "1")
    taps = [r for r in root.iter(SVG + "rect") if r.get("class") == "tap"]
    assert len(taps) == 9
    real = {centre(r): r for r in cells(root, "input", "real")}
    xs = sorted({c[0] for c in real})
    tapped = sorted({centre(t)[0] for t in taps})
    assert tapped == [xs[0], xs[2], xs[4]]  # taps 0, 2, 4: a gap between each
    assert any(close(image.getpixel(centre(t)), (0x8C, 0xB1, 0xEB), 12) for t in taps)  # the window over white


def test_a_transposed_convolution_is_drawn_as_its_input_spread_by_the_stride():
    root = svg_of("-i", "3", "convt k3 s2")
    zeros = cells(root, "input", "zero")
    real = cells(root, "input", "real")
    assert len(real) == 9 and len(zeros) == 5 * 5 - 9  # 3 pixels, 2 zeros between, per axis
    assert len(cells(root, "input", "pad")) == 9 * 9 - 25  # kₑ − 1 − p = 2 on each side


def test_the_terminal_picture_says_the_same_with_characters():
    result = draw("-i", "6", "conv k3 s2")
    assert result.exit_code == 0
    assert result.stdout == (
        "conv k3 s2: input (padding ·) → output\n"
        "■ ■ ■ ■ ■ !    ■ ■ \n"
        "■ ■ ■ ■ ■ !    ■ ■ \n"
        "■ ■ ■ ■ ■ !    \n"
        "■ ■ ■ ■ ■ !    \n"
        "■ ■ ■ ■ ■ !    \n"
        "! ! ! ! ! !    \n"
        "4 window positions; ! 11 input pixels never read (-o picture.svg animates the window)\n"
    )
    padded = draw("-i", "3", "conv k3 p1", "--dims", "1").stdout.splitlines()[1]
    assert padded == "· ■ ■ ■ ·    ■ ■ ■ "


@pytest.mark.parametrize("args, status, message", [
    (["conv k3"], 2, "draw needs an input size (-i)"),
    (["-i", "4", "conv k5"], 1, "layer 1 (conv k5) does not run: "),
    (["-i", "64", "conv k3"], 1, "a layer picture is readable up to 48"),
    (["-i", "8", "conv k3", "--frame", "99"], 2, "--frame 99: the layer has 36 output positions"),
    (["-i", "8", "conv k3, gap"], 2, "a network diagram is a picture: give -o"),
    (["-i", "8", "conv k3", "-o", "x.jpg"], 2, "is neither .svg nor .png"),
    (["-i", "8", "conv k3", "--unit", "9,9"], 2, "row 1's output is 6×6"),
    (["-i", "8", "conv k3", "--unit", "a"], 2, "is not a position such as 3,4"),
    (["-i", "8", "bn"], 1, "a layer picture shows a window sliding"),
    (["-i", "60", "conv k3", "--unit", "5,5"], 1, "60 cells across are too wide for the terminal: write a picture"),
])
def test_what_cannot_be_drawn_is_said(args, status, message):
    result = draw(*args)
    assert result.exit_code == status
    assert message in result.stderr
    assert "Traceback" not in result.output


@needs_renderer
def test_png_is_written_through_cairosvg(tmp_path):
    target = tmp_path / "conv.png"
    assert draw("-i", "7", "conv k3 s2", "-o", str(target)).exit_code == 0
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ----------------------------------------------------------------------------- networks

def blocks(root):
    return {g.get("id"): g for g in root.iter(SVG + "g") if "block" in g.get("class", "").split()}


def test_the_unet_diagram_goes_down_and_comes_back_up_with_its_skips_across():
    root = svg_of("-i", "572", "-c", "1", "-f", str(ROOT / "examples" / "unet.stack"))
    found = blocks(root)
    assert "row0" in found and len(found) == 1 + 49 - 18  # the input, and every row but the 18 ReLUs
    rect = {key: g.find(SVG + "rect") for key, g in found.items() if g.find(SVG + "rect") is not None}
    height = {key: float(r.get("height")) for key, r in rect.items()}
    middle = {key: float(r.get("y")) + float(r.get("height")) / 2 for key, r in rect.items()}
    assert height["row1"] > height["row6"] > height["row11"] > height["row21"]  # 570, 282, 138, 30
    assert middle["row23"] == max(middle.values())  # 1024×28×28, the bottom of the U
    assert middle["row49"] < middle["row23"] and middle["row1"] < middle["row49"]
    skips = [p for p in root.iter(SVG + "path") if p.get("class") == "arrow skip"]
    assert len(skips) == 4  # s1..s4 into the four cats
    assert len([g for g in found.values() if g.find(SVG + "circle") is not None]) == 4
    assert all("warning" in found[f"row{r}"].get("class") for r in (26, 32, 38, 44))  # misaligned merges


def test_a_row_with_an_error_is_outlined_in_red_and_the_rows_after_it_are_not_computed():
    root = svg_of("-i", "8", "-c", "3", "conv k3 c8, conv k9 c8, conv k1")
    found = blocks(root)
    assert found["row2"].get("class") == "block error"
    assert found["row2"].find(SVG + "rect").get("stroke") == "#d62f2f"
    assert "kernel" in found["row2"].find(SVG + "title").text
    assert found["row3"].get("class") == "block skipped"


@needs_renderer
def test_the_error_outline_is_red_in_the_rendered_picture():
    image, root = render("-i", "8", "-c", "3", "conv k3 c8, conv k9 c8, conv k1")
    rect = blocks(root)["row2"].find(SVG + "rect")
    x, y = float(rect.get("x")), float(rect.get("y")) + float(rect.get("height")) / 2
    assert close(image.getpixel((int(x), int(y))), (0xD6, 0x2F, 0x2F), 40)


def test_resnet18_has_a_block_per_conv_and_an_arrow_per_shortcut():
    root = svg_of("-i", "224", "-c", "3", "-f", str(ROOT / "examples" / "resnet18.stack"))
    found = blocks(root)
    adds = [g for g in found.values() if g.find(SVG + "circle") is not None]
    assert len(adds) == 8
    labels = [g.find(SVG + "title").text.split("\n")[0] for g in found.values()]
    assert sum(" conv " in f" {label.split(': ', 1)[1]} " for label in labels) == 20
    skips = [p for p in root.iter(SVG + "path") if p.get("class") == "arrow skip"]
    assert len(skips) == 8 + 3  # every add reads a name, and each projection reads x (from x)
    rect = {key: g.find(SVG + "rect") for key, g in found.items() if g.find(SVG + "rect") is not None}
    projections = [key for key, g in found.items() if "conv k1 s2" in g.find(SVG + "title").text]
    assert len(projections) == 3
    for key in projections:  # below the first conv of its block, in the same column
        first = f"row{int(key[3:]) - 5}"
        assert rect[key].get("x") == rect[first].get("x") and float(rect[key].get("y")) > float(rect[first].get("y"))


# ----------------------------------------------------------------------------- receptive fields

GRAPH_CASES = [c for c in json.loads((Path(__file__).parent / "golden" / "graph_cases.json").read_text())["cases"]
               if c["error"] is None and c["dims"] <= 2 and max(int(v) for v in c["input"].split("x")) <= 96]


def test_the_field_of_a_unit_is_the_pixels_torch_s_gradient_reaches():
    """The golden's fields: with all-one weights, the first and last input pixel whose gradient is not 0."""
    from convshape import calc
    from convshape.draw.field import field_picture

    checked = 0
    for case in GRAPH_CASES[::3]:
        result = calc(case["stack"], case["input"], channels=case["channels"], dims=case["dims"])
        for row, units in enumerate(case["fields"], start=1):
            if units is None or result.rows[row - 1].out_size is None:
                continue
            for unit in units:
                picture = field_picture(result, row, tuple(u for u, _, _ in unit))
                if unit[0][1] is None and "mul" in case["stack"]:
                    continue  # a gate times a structural zero (a convt's gap): the gradient is 0, the path is there
                for axis, (_, first, last) in enumerate(unit):
                    along = sorted({position[axis] for position in picture.reached})
                    assert ([along[0], along[-1]] if along else [None, None]) == [first, last], (case["stack"], row)
                checked += 1
    assert checked > 500


def test_a_field_with_few_paths_shows_each_path_apart():
    root = svg_of("-i", "12", "@a conv k3 p1, conv k3 p1 @b from a conv k1 add b", "--unit", "5,5")
    panels = [g for g in root.iter(SVG + "g") if g.get("class") == "panel"]
    assert len(panels) == 3  # all paths, then each of the two
    titles = [g.find(SVG + "text").text for g in panels]
    assert titles == ["all paths", "path 1: rows 4 ← 2 ← 1 ← 0", "path 2: rows 4 ← 3 ← 0"]
    reached = [len([r for r in g.iter(SVG + "rect") if "reached" in r.get("class").split()]) for g in panels]
    assert reached == [25, 25, 1]  # two 3×3 convs: 5×5; the 1×1 shortcut: the pixel itself


@pytest.mark.parametrize("stack, paths", [
    ("conv k2, conv k2", [1, 2, 1]),  # the middle pixel: two paths
    ("conv k2, conv k2, conv k2", [1, 3, 3, 1]),
])
def test_a_field_s_pixels_are_darker_the_more_paths_reach_them(stack, paths):
    """The most-reached pixels are opaque; those fewer paths reach are lighter, on a log scale."""
    root = svg_of("-i", "4", "--dims", "1", stack, "--unit", "0")
    panel = next(g for g in root.iter(SVG + "g") if g.get("class") == "panel")
    cells = [r for r in panel.iter(SVG + "rect") if "reached" in r.get("class").split()]
    most = max(paths)
    assert [float(r.get("fill-opacity")) for r in cells] == [
        round(0.35 + 0.65 * log2(n + 1) / log2(most + 1), 3) for n in paths]


def test_the_field_in_the_terminal():
    result = draw("-i", "7", "conv k3 s2, conv k3", "--unit", "0", "--dims", "1")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[1] == "█ █ █ █ █ █ █ "
    assert "7 input pixels reached" in result.stdout


# ----------------------------------------------------------------------------- the README's pictures

def test_the_readme_pictures_are_what_the_script_makes_now():
    import sys

    sys.path.insert(0, str(ROOT / "examples" / "pictures"))
    from make import PICTURES, make

    for name, args in PICTURES:
        committed = (ROOT / "examples" / "pictures" / name).read_text()
        assert make(args) == committed, f"{name} is stale: run python examples/pictures/make.py"
    readme = (ROOT / "README.md").read_text()
    shown = set(re.findall(r"\(examples/pictures/([\w.-]+\.svg)\)", readme))
    assert shown == {name for name, _ in PICTURES}


def test_explain_points_to_the_picture_of_each_small_windowed_row():
    result = runner.invoke(app, ["calc", "-i", "7", "--explain", "conv k3 s2, relu, maxpool k2 ceil"])
    assert 'see it: convshape draw -i 7x7 "conv k3 s2"' in result.stdout
    assert 'see it: convshape draw -i 3x3 "maxpool k2 ceil"' in result.stdout
    assert result.stdout.count("see it:") == 2  # not for relu
    assert "see it:" not in runner.invoke(app, ["calc", "-i", "64", "--explain", "conv k3"]).stdout  # 64 cells: too many
    drawn = draw("-i", "3x3", "maxpool k2 ceil")
    assert drawn.exit_code == 0 and "4 window positions" in drawn.stdout


# ----------------------------------------------------------------------------- a diagram's geometry

INCEPTION = ("@x conv k1 c64 @b1 from x conv k1 c96, conv k3 p1 c128 @b2 from x conv k1 c16, conv k3 p1 c32 @b3 "
             "from x maxpool k3 s1 p1, conv k1 c32 cat b1 b2 b3")
CHARACTER = 0.55  # em: DejaVu Sans' narrow letters; the real width is at least this


def geometry(root):
    """Each block's box (its rect or circle), its two texts' boxes, and each arrow's points."""
    boxes, texts = {}, []
    for key, group in blocks(root).items():
        rect, circle = group.find(SVG + "rect"), group.find(SVG + "circle")
        if rect is not None:
            boxes[key] = tuple(float(rect.get(k)) for k in ("x", "y", "width", "height"))
        else:
            r = float(circle.get("r"))
            boxes[key] = (float(circle.get("cx")) - r, float(circle.get("cy")) - r, 2 * r, 2 * r)
        for text in group.iter(SVG + "text"):
            if text.get("class") in ("label", "shape"):
                size = float(text.get("font-size"))
                texts.append((key, text.get("class"), text.text,
                              (float(text.get("x")), float(text.get("y")) - 0.75 * size,
                               CHARACTER * size * len(text.text), 0.95 * size)))
    arrows = {}
    for path in root.iter(SVG + "path"):
        if "arrow" in path.get("class", "").split():
            numbers = [float(v) for v in re.findall(r"-?[\d.]+", path.get("d"))]
            points = list(zip(numbers[::2], numbers[1::2]))
            curve = " C " in path.get("d")
            if curve:  # the cubic's own points, sampled
                (a, b, c, d) = points[-4:]
                sampled = [tuple((1 - t) ** 3 * p + 3 * (1 - t) ** 2 * t * q + 3 * (1 - t) * t ** 2 * r + t ** 3 * s
                                 for p, q, r, s in zip(a, b, c, d)) for t in [i / 40 for i in range(41)]]
                points = points[:-4] + sampled
            source, target = re.fullmatch(r"edge(\d+)-(\d+)", path.get("id")).groups()
            arrows[(f"row{source}", f"row{target}")] = points
    return boxes, texts, arrows


def overlap(a, b) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def inside(point, box, margin=0.5) -> bool:
    x, y = point
    return box[0] + margin < x < box[0] + box[2] - margin and box[1] + margin < y < box[1] + box[3] - margin


def through(points, step=2.0):
    """Points every ``step`` px along a polyline."""
    for (x1, y1), (x2, y2) in zip(points, points[1:]):
        count = max(1, int(max(abs(x2 - x1), abs(y2 - y1)) / step))
        for i in range(count + 1):
            yield x1 + (x2 - x1) * i / count, y1 + (y2 - y1) * i / count


DIAGRAMS = [("28", "192", [INCEPTION]), ("224", "3", ["-f", str(ROOT / "examples" / "googlenet.stack")]),
            ("224", "3", ["-f", str(ROOT / "examples" / "resnet50.stack")]),
            ("224", "3", ["-f", str(ROOT / "examples" / "fpn-resnet50.stack")]),
            ("572", "1", ["-f", str(ROOT / "examples" / "unet.stack")]),
            ("224", "3", ["-f", str(ROOT / "examples" / "densenet121.stack")]),
            ("8", "3", ["conv k3 c8, conv k9 c8, conv k1"]),  # an error, and a row not computed
            # three branches from x: the third opens in the column where the second lane ends
            ("16", "3", ["conv k3 p1 c8 @x conv k3 p1 c8 from x conv k3 p1 c8 from x conv k3 p1 c8"])]


@pytest.mark.parametrize("size, channels, stack", DIAGRAMS, ids=lambda v: v[-1][-20:] if isinstance(v, list) else v)
def test_a_diagram_s_blocks_and_texts_never_overlap_and_every_arrow_joins_its_two_blocks(size, channels, stack):
    root = svg_of("-i", size, "-c", channels, *stack)
    boxes, texts, arrows = geometry(root)
    keys = sorted(boxes)
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            assert not overlap(boxes[a], boxes[b]), (a, b)
    labelled = {(key, kind) for key, kind, text, _ in texts if text}
    assert labelled == {(key, kind) for key in boxes for kind in ("label", "shape")}  # every block says both
    for key, kind, text, box in texts:
        assert not any(overlap(box, other) for k, other in boxes.items()), (key, kind, text)
        assert not any(overlap(box, other[3]) for other in texts if other[:2] != (key, kind)), (key, kind, text)
    assert arrows
    for (source, target), points in arrows.items():
        s, t = boxes[source], boxes[target]
        assert points[0] == pytest.approx((s[0] + s[2], s[1] + s[3] / 2), abs=0.01)  # the middle of the source's right side
        assert points[-1] == pytest.approx((t[0] - 1, t[1] + t[3] / 2), abs=0.01)  # the tip at the target's left side
        crossed = {k for point in through(points) for k, box in boxes.items() if inside(point, box)}
        assert crossed <= {source, target}, (source, target, crossed)
    width, height = (float(root.get(k)) for k in ("width", "height"))
    drawn = list(boxes.values()) + [box for *_, box in texts]
    assert all(0 <= x and x + w <= width and 0 <= y and y + h <= height for x, y, w, h in drawn)


def test_each_branch_of_an_inception_module_keeps_its_own_lane():
    boxes, _, _ = geometry(svg_of("-i", "28", "-c", "192", INCEPTION))
    middle = {key: box[1] + box[3] / 2 for key, box in boxes.items()}
    # rows: 1 b1; 2, 3 the 3x3 branch; 4, 5 the 5x5 branch; 6, 7 the pool branch; 8 the cat
    for first, second in [(2, 3), (4, 5), (6, 7)]:
        assert middle[f"row{first}"] == middle[f"row{second}"]
        assert boxes[f"row{first}"][0] < boxes[f"row{second}"][0]
    lanes = [middle[f"row{r}"] for r in (1, 2, 4, 6)]
    assert lanes == sorted(lanes) and len(set(lanes)) == 4  # one above the other, in the stack's order
    assert middle["row8"] == middle["row1"]  # the cat goes on where the first branch is


def test_a_resnet_shortcut_s_projection_has_its_own_lane_and_its_labels():
    boxes, texts, _ = geometry(svg_of("-i", "224", "-c", "3", "-f", str(ROOT / "examples" / "resnet18.stack")))
    said = {(key, kind): text for key, kind, text, _ in texts}
    projections = [key for (key, kind), text in said.items() if kind == "label" and "conv k1 s2" in text]
    assert len(projections) == 3
    for key in projections:
        first = f"row{int(key[3:]) - 5}"  # the block's first conv, in the column the projection shares
        assert boxes[key][0] == boxes[first][0] and boxes[key][1] > boxes[first][1] + boxes[first][3]
        assert said[(key, "shape")] in ("128×28×28", "256×14×14", "512×7×7")


def test_a_diagram_has_a_legend_of_its_shapes_lines_and_colours():
    root = svg_of("-i", "32", "-c", "3", "conv k3 c8, conv k3")
    legend = next(g for g in root.iter(SVG + "g") if g.get("class") == "legend")
    words = " ".join(t.text for t in legend.iter(SVG + "text"))
    for phrase in ["height = spatial size", "width = channels (log scale)", "lower = more downsampled",
                   "+ add, × mul, ‖ cat", "reads the row before", "reads a name", "warnings", "error", "not computed"]:
        assert phrase in words
    strokes = {r.get("stroke") for r in legend.iter(SVG + "rect")}
    assert {"#f28c28", "#d62f2f"} <= strokes  # the warning and error outlines the blocks use
    dashes = [line.get("stroke-dasharray") for line in legend.iter(SVG + "line")]
    assert dashes == [None, "5 3"]



def test_a_short_stack_s_picture_holds_its_whole_legend():
    """On two layers the legend is the widest thing drawn: rendered, its longest line ends
    inside the picture, with a margin as wide as the left one (20 px) give or take a letter."""
    picture, _ = render("-i", "32", "-c", "3", "conv k3 c8, conv k3")
    width, height = picture.size
    pixels = picture.load()
    inked = [x for x in range(width) for y in range(height) if pixels[x, y] != (255, 255, 255)]
    assert width - 1 - max(inked) >= 12


def test_a_diagram_is_cropped_to_what_it_draws():
    root = svg_of("-i", "224", "-c", "3", "-f", str(ROOT / "examples" / "resnet50.stack"))
    boxes, texts, _ = geometry(root)
    width, height = (float(root.get(k)) for k in ("width", "height"))
    right = max(x + w for x, y, w, h in list(boxes.values()) + [box for *_, box in texts])
    assert width - right <= 40  # no blank half: the last block and its labels reach the right margin
    legend = next(g for g in root.iter(SVG + "g") if g.get("class") == "legend")
    top = float(re.search(r"translate\([\d.]+ ([\d.]+)\)", legend.get("transform")).group(1))
    lowest = max(y + h for x, y, w, h in boxes.values())
    assert top - lowest <= 60 and height - top <= 100  # the legend right under the lowest block, then the edge


def test_scale_draws_the_same_picture_larger_or_smaller(tmp_path):
    plain, double = tmp_path / "a.svg", tmp_path / "b.svg"
    assert draw("-i", "32", "-c", "3", "conv k3 c8, conv k3", "-o", str(plain)).exit_code == 0
    assert draw("-i", "32", "-c", "3", "conv k3 c8, conv k3", "-o", str(double), "--scale", "2").exit_code == 0
    a, b = ET.parse(plain).getroot(), ET.parse(double).getroot()
    assert float(b.get("width")) == 2 * float(a.get("width")) and float(b.get("height")) == 2 * float(a.get("height"))
    assert a.get("viewBox") == b.get("viewBox") == f"0 0 {a.get('width')} {a.get('height')}"
    refused = draw("-i", "7", "conv k3 s2", "--scale", "2")
    assert refused.exit_code == 2 and "--scale sizes a picture file: give -o" in refused.stderr
    assert draw("-i", "7", "conv k3 s2", "-o", str(plain), "--scale", "0.09").exit_code == 2
    assert draw("-i", "7", "conv k3 s2", "-o", str(plain), "--scale", "0.1").exit_code == 0


@needs_renderer
def test_a_scaled_png_has_the_scaled_size(tmp_path):
    from PIL import Image

    for scale, name in (("1", "a.png"), ("0.5", "b.png")):
        assert draw("-i", "224", "-c", "3", "-f", str(ROOT / "examples" / "resnet18.stack"), "-o",
                    str(tmp_path / name), "--scale", scale).exit_code == 0
    full, half = (Image.open(tmp_path / name).size for name in ("a.png", "b.png"))
    assert all(abs(h - f / 2) <= 1 for h, f in zip(half, full))


def test_a_row_not_computed_is_drawn_dashed_and_grey_and_an_error_red():
    """After an error the rows are not computed: their blocks have the legend's dashed outline."""
    groups = blocks(svg_of("-i", "8", "-c", "3", "conv k3 c8, conv k9 c8, conv k1"))
    outline = {key: (group.find(SVG + "rect").get("stroke"), group.find(SVG + "rect").get("stroke-dasharray"))
               for key, group in groups.items() if group.find(SVG + "rect") is not None}
    assert outline["row2"][0] == "#d62f2f" and outline["row2"][1] is None
    assert outline["row3"][1] == "4 3"
    assert outline["row1"][1] is None


@pytest.mark.parametrize("size, widest", [("7", False), ("30", True), ("3x40", True)])
def test_a_layer_picture_s_cells_lie_inside_the_picture(size, widest):
    """Read back from the SVG: every cell, input and output, within the width and height
    (the output grid is the widest part of a big picture: the legend and subtitle are not)."""
    root = svg_of("-i", size, "conv k3")
    width, height = float(root.get("width")), float(root.get("height"))
    cells = [rect for rect in root.iter("{http://www.w3.org/2000/svg}rect") if "cell" in (rect.get("class") or "")]
    assert cells
    right = max(float(r.get("x")) + float(r.get("width")) for r in cells)
    bottom = max(float(r.get("y")) + float(r.get("height")) for r in cells)
    assert bottom < height and right + 20 <= width  # the margin, 20, after the rightmost cell
    assert (right + 20 == width) is widest  # where the grids are wider than the legend and the subtitle

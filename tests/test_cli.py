"""The command line, through Typer's runner and as a real subprocess."""

import json
import os
import re
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from convshape.cli import app
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ANSI = re.compile(r"\x1b\[")
runner = CliRunner()

RESNET_STEM = ["-i", "224", "-c", "3", "conv", "k7", "s2", "p3", "c64", "maxpool", "k3", "s2", "p1"]


def invoke(*args, stdin=None):
    return runner.invoke(app, list(args), input=stdin)


def test_table_shows_every_layer_and_the_final_shape():
    result = invoke("calc", *RESNET_STEM)
    assert result.exit_code == 0
    assert "conv k7 s2 p3 c64" in result.stdout and "maxpool k3 s2 p1" in result.stdout
    assert "64×112×112" in result.stdout and "64×56×56" in result.stdout
    assert "output: 64 × 56 × 56" in result.stdout
    assert "after flatten: in_features = 200704" in result.stdout


def test_in_features_for_the_first_linear_layer():
    result = invoke("calc", "-i", "224", "-c", "3", "-q", "conv k3 p1 c64, maxpool k2, flatten")
    assert result.stdout == "802816\n"


@pytest.mark.parametrize(
    "args, expected",
    [
        (["-i", "224", "-c", "3", "conv", "k3", "p1", "c512", "maxpool", "k32"], "512x7x7\n"),
        (["-i", "224", "conv", "k3", "p1", "maxpool", "k32"], "7x7\n"),
        (["-i", "7", "-c", "1", "conv", "k3", "s2"], "1x3x3\n"),
        (["-i", "28", "-c", "1", "conv k5 c6, maxpool k2, conv k5 c16, maxpool k2, flatten, linear c120"], "120\n"),
    ],
)
def test_quiet_prints_the_shape_alone(args, expected):
    result = invoke("calc", "-q", *args)
    assert (result.exit_code, result.stdout) == (0, expected)


def test_json_has_the_documented_keys():
    result = invoke("calc", "--format", "json", *RESNET_STEM)
    data = json.loads(result.stdout)
    assert set(data) >= {"input", "layers", "output", "valid"}
    assert data["input"] == {"size": [224, 224], "channels": 3, "names": []}
    layer = data["layers"][0]
    for key in ["index", "spec", "kind", "kernel", "stride", "padding", "dilation", "in_size", "out_size",
                "in_channels", "out_channels", "rf", "warnings", "notes", "error"]:
        assert key in layer, key
    assert layer["padding"] == [[3, 3], [3, 3]] and layer["out_size"] == [112, 112]
    assert layer["rf"] == {"size": [7, 7], "jump": [2, 2], "start": [0, 0], "min_size": [7, 7]}
    assert layer["notes"][0]["code"] == "padding_trimmed" and layer["error"] is None
    assert data["output"] == {"size": [56, 56], "channels": 64, "features": 200704, "tokens": None}
    assert (layer["tokens"], layer["width"]) == (None, None)  # a map, not a sequence of tokens
    assert data["valid"] is True


def test_json_writes_fractions_as_numbers():
    data = json.loads(invoke("calc", "--format", "json", "-i", "8", "conv k2 s2, up").stdout)
    assert data["layers"][1]["rf"]["jump"] == [1, 1]
    data = json.loads(invoke("calc", "--format", "json", "-i", "8", "conv k2").stdout)
    assert data["layers"][0]["rf"]["start"] == [0.5, 0.5]


@pytest.mark.parametrize("args", [
    ["-i", "224", "-c", "3", "-f", "examples/resnet50.stack", "--flops"],
    ["-i", "9", "-c", "3", "@x conv k2 s3 c4 up s1.5 conv k3 add x crop conv k99"],  # fractions, an error
])
def test_json_text_is_what_pythons_json_writes(args, monkeypatch):
    """Each line of the JSON is json.dumps of its value (non-ASCII kept, fractions as floats),
    one layer a line: written by the C encoder json uses, without importing json."""
    monkeypatch.chdir(ROOT)
    text = invoke("calc", "--format", "json", *args).stdout
    data = json.loads(text)

    def dump(value):
        return json.dumps(value, ensure_ascii=False)

    lines = ["{"] + [f"  {dump(key)}: {dump(value)}," for key, value in data.items() if key != "layers"][:5]
    lines += ['  "layers": ['] + [f"    {dump(layer)}," for layer in data["layers"]]
    lines[-1] = lines[-1][:-1]
    tail = [f"  {dump(key)}: {dump(value)}," for key, value in list(data.items())[6:]]
    lines += ["  ],"] + tail[:-1] + [tail[-1][:-1], "}"]
    assert list(data)[5] == "layers"
    assert text == "\n".join(lines) + "\n"
    assert "−" in text and "\\u" not in text


def test_json_field_gives_each_axis_and_the_narrowest_path():
    """rf's size is the widest path into a row and min_size the narrowest (the identity
    shortcut's 1 pixel, then 1 + 2 and 1 + 4 through the 3x5 kernel); a layer that differs
    per axis gives each axis its own size, jump (stride 2 on W) and start ((k - 1) / 2)."""
    text = invoke("calc", "--format", "json", "-i", "9x12", "@x conv k3 p1, conv k3 p1, add x, conv k3x5 s1x2").stdout
    fields = [layer["rf"] for layer in json.loads(text)["layers"]]
    assert fields[1] == {"size": [5, 5], "jump": [1, 1], "start": [0, 0], "min_size": [5, 5]}
    assert fields[2] == {"size": [5, 5], "jump": [1, 1], "start": [0, 0], "min_size": [1, 1]}
    assert fields[3] == {"size": [7, 9], "jump": [1, 2], "start": [1, 2], "min_size": [3, 5]}


def test_json_encoder_without_c_is_pythons(monkeypatch):
    """Where Python has no C encoder, json's own writes the same text."""
    import importlib
    import sys

    render = importlib.import_module("convshape.render.json")
    monkeypatch.setitem(sys.modules, "_json", None)  # an import of it fails
    fallback = render._encoder()
    value = {"spec": 'a "b" \\ c\n\x01 é − ×', "jump": [0.5, 2 / 3, 10**20], "none": None, "flag": True}
    assert fallback(value) == render.dump(value) == json.dumps(value, ensure_ascii=False)


def test_invalid_stack_in_json_is_data_with_exit_1():
    result = invoke("calc", "--format", "json", "-i", "5", "conv k3, conv k9, conv k1")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["valid"] is False and data["output"] is None
    assert data["layers"][1]["error"]["code"] == "kernel_too_large"
    assert data["layers"][2]["computed"] is False


@pytest.mark.parametrize("fmt, sep", [("csv", ","), ("tsv", "\t")])
def test_csv_and_tsv(fmt, sep):
    result = invoke("calc", "--format", fmt, *RESNET_STEM)
    lines = result.stdout.splitlines()
    assert lines[0].split(sep)[:5] == ["index", "spec", "kind", "in_size", "out_size"]
    assert lines[1].split(sep)[:5] == ["1", "conv k7 s2 p3 c64", "conv", "224x224", "112x112"]
    assert len(lines) == 3


def test_explain_shows_the_seed_formula():
    result = invoke("calc", "-i", "7", "conv k3 s2 p0", "--explain")
    assert "floor((7 − 3 + 2·0) / 2) + 1 = 3" in result.stdout


def test_parse_error_exit_2_with_caret_and_suggestion():
    result = invoke("calc", "-i", "224", "conv", "kk3", "s2")
    assert result.exit_code == 2
    assert "unknown token 'kk3' (did you mean 'k3'?)" in result.stderr
    assert "  conv kk3 s2\n       ^^^" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args, message",
    [
        (["calc", "--format", "csv", "conv", "k3"], "--format csv needs an input size"),
        (["calc", "-i", "224"], "no stack given"),
        (["calc", "-i", "22x", "conv", "k3"], "'22x' is not a size"),
        (["calc", "-i", "224", "--allow", "floor_roundin", "conv", "k3"], "did you mean 'floor_rounding'"),
        (["calc", "-i", "224", "-f", "/nonexistent/stack", ], "cannot read /nonexistent/stack"),
        (["calc", "-i", "224", "--format", "yaml", "conv", "k3"], "yaml"),
    ],
)
def test_usage_errors_exit_2(args, message):
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_strict_makes_warnings_fail_and_allow_exempts_them():
    args = ["calc", "-i", "6", "conv", "k3", "s2"]
    assert invoke(*args).exit_code == 0
    assert invoke(*args, "--strict").exit_code == 1
    assert invoke(*args, "--strict", "--allow", "floor_rounding").exit_code == 0
    # notes never fail, even with --strict
    assert invoke("calc", "-i", "224", "conv", "k3", "s2", "p1", "--strict").exit_code == 0


def test_quiet_on_an_invalid_stack_prints_nothing_and_the_error_to_stderr():
    result = invoke("calc", "-q", "-i", "5", "conv", "k9")
    assert result.exit_code == 1 and result.stdout == ""
    assert "layer 1 (conv k9)" in result.stderr and "smaller than the kernel 9" in result.stderr


def test_stack_from_stdin_with_comments_bom_and_crlf():
    text = "\ufeffconv k7 s2 p3 c64  # stem\r\n\r\nmaxpool k3 s2 p1\r\n"
    result = invoke("calc", "-i", "224", "-c", "3", "-f", "-", "-q", stdin=text)
    assert result.stdout == "64x56x56\n"


def test_a_file_that_is_not_utf8_names_the_byte(run, tmp_path):
    """The byte's place in the file, a byte-order mark counted; a model file's sniffing too."""
    for data, byte in ((b"conv k3 \xff\n", 8), (b"\xef\xbb\xbfconv k3 \xff\n", 11),
                       (b"\xef\xbb\xbfSequential(\n  (0): Conv2d(3, 8, kernel_size=(3, 3)\xe9)\n)\n", 53)):
        path = tmp_path / "net.stack"
        path.write_bytes(data)
        result = run("calc", "-i", "8", "-q", "-f", str(path))
        assert (result.returncode, result.stdout, result.stderr) == (
            2, "", f"convshape: {path} is not UTF-8 text (byte {byte})\n")


def test_file_parse_error_names_file_line_and_column(tmp_path):
    path = tmp_path / "resnet.stack"
    path.write_text("conv k7 s2 p3\n\nconv kk3 s2\n")
    result = invoke("calc", "-i", "224", "-f", str(path))
    assert result.exit_code == 2
    assert f"{path}:3:6: unknown token 'kk3' (did you mean 'k3'?)" in result.stderr


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0 and re.fullmatch(r"convshape \d+\.\d+\.\d+\n", result.stdout)


WORDS = st.sampled_from(
    ["conv", "k3", "s2", "p1", "-i", "224", "7x7", "-c", "0", "3", "--format", "json", "-q", "x2", "psame",
     "flatten", "linear", "c10", "--convention", "tf", "gap", "up", "s1.5", "--strict", "-f", "--dims", "4", "ceil",
     "maxpool", "convt", "op1", "pad", "p-1", "k0", "--explain", "kk3", "", "é", "--allow"]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(WORDS, max_size=10))
def test_no_input_ever_produces_a_traceback(words):
    result = invoke("calc", *words)
    assert result.exit_code in (0, 1, 2), (words, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), (words, repr(result.exception))


# --- as a real subprocess -------------------------------------------------------


def test_subprocess_exit_codes(run):
    assert run("calc", "-i", "224", "conv", "k3").returncode == 0
    assert run("calc", "-i", "2", "conv", "k3").returncode == 1
    assert run("calc", "-i", "224", "conv", "kk3").returncode == 2


def test_no_ansi_codes_when_piped_even_with_colours_in_the_table(run):
    result = run("calc", "-i", "6", "conv", "k3", "s2")
    assert not ANSI.search(result.stdout) and "floor_rounding" in result.stdout


def test_force_color_and_no_color(run):
    forced = run("calc", "-i", "6", "conv", "k3", "s2", env={"FORCE_COLOR": "1", "TERM": "xterm-256color"})
    assert ANSI.search(forced.stdout)
    assert not ANSI.search(run("calc", "-i", "6", "conv k3 s2", env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).stdout)
    assert not ANSI.search(run("calc", "-i", "6", "conv k3 s2", "--no-color", env={"FORCE_COLOR": "1"}).stdout)


def bash(command: str, env: dict):
    """``command`` run by bash in the project's folder, its output captured as text."""
    return subprocess.run(command, shell=True, capture_output=True, text=True, env=env, timeout=120, executable="bash",
                          cwd=ROOT)


def test_head_ends_quietly(shell_env):
    stack = "conv k3 p1 x2000"
    result = bash(f"convshape calc -i 32 --format csv '{stack}' | head -1; echo \"status ${{PIPESTATUS[0]}}\"", shell_env)
    assert result.stdout == ("index,spec,kind,in_size,out_size,in_channels,out_channels,features,tokens,kernel,stride,"
                             "padding,dilation,rf_size,rf_jump,rf_start,error,warnings,notes,inputs,names,rf_min_size,"
                             "params,buffers,macs,output_bytes\nstatus 141\n")
    assert result.stderr == ""


@pytest.mark.parametrize("command", [
    "convshape calc -i 32 --format csv 'conv k3 p1 x20000' | head -1",
    "convshape calc -i 32 --format json 'conv k3 p1 x20000' | head -c 100",
    "convshape calc -i 32 'conv k3 p1 x3000' | head -1",
    "convshape fit conv k3 s2 --range 1:100000000 -q | head -2",
])
def test_a_reader_that_stops_early_gives_141_never_1(command, shell_env):
    """Exit 1 means an invalid stack: a script with pipefail must not see it when head stops reading.
    (Each output is larger than a pipe holds: a smaller one may be written whole before head
    stops, and then 0 is the right status, as for `echo hi | head -c 1`.)"""
    for _ in range(3):
        result = bash(f"{command} >/dev/null; echo ${{PIPESTATUS[0]}}", shell_env)
        assert (result.stdout, result.stderr) == ("141\n", "")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", [
    "calc -i 224 -c 3 --format json -f examples/resnet50.stack",
    "calc -i 32 conv k3 s2",
    "calc -i 32 -q conv k3 s2",
    "calc --help",
])
def test_output_that_cannot_be_written_is_said_and_exits_1(args, shell_env):
    """A full disk and a closed stdout are the user's to fix, not an internal error (70)."""
    for redirect, reason in ((">/dev/full", "No space left on device"), (">&-", "standard output is closed")):
        result = bash(f"convshape {args} {redirect}; echo $?", shell_env)
        assert (result.stdout, result.stderr) == ("1\n", f"convshape: cannot write the output: {reason}\n")


def test_a_long_output_arrives_whole_with_its_status(run):
    """The process ends without Python's teardown once the output is flushed: all of it."""
    result = run("calc", "-i", "32", "-c", "3", "--format", "json", "conv k3 p1 x3000, conv k99")
    assert (result.returncode, result.stderr) == (1, "")
    layers = json.loads(result.stdout)["layers"]
    assert (len(layers), layers[-1]["error"]["code"]) == (3001, "kernel_too_large")
    quiet = run("calc", "-i", "32", "-q", "conv k3 p1 x3000, conv k99")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (
        1, "", "convshape: layer 3001 (conv k99): on H and W: the padded input (32 + 0 + 0 = 32) is smaller than the kernel 99\n")


def test_python_dash_m(run):
    import sys

    result = subprocess.run([sys.executable, "-m", "convshape", "calc", "-i", "7", "-q", "conv", "k3", "s2"], capture_output=True, text=True)
    assert result.stdout == "3x3\n"


def test_no_arguments_prints_help_and_exits_2(run):
    result = run()
    assert result.returncode == 2
    assert "calc" in result.stdout + result.stderr


def test_a_file_stack_can_be_extended_with_arguments(tmp_path):
    path = tmp_path / "features.stack"
    path.write_text("conv k3 p1 c64 x2, maxpool k2  # a VGG block\n")
    result = invoke("calc", "-i", "224", "-c", "3", "-f", str(path), "flatten", "-q")
    assert (result.exit_code, result.stdout) == (0, f"{64 * 112 * 112}\n")
    typo = invoke("calc", "-i", "224", "-f", str(path), "flaten")
    assert typo.exit_code == 2 and "<command line>:1:1: unknown token 'flaten' (did you mean 'flatten'?)" in typo.stderr


def test_usage_errors_read_like_convshapes_own(run):
    cases = [
        (["fit", "--near", "abc", "conv", "k3"], "convshape: --near: 'abc' is not a whole number (see 'convshape fit -h')\n"),
        (["fit", "--near", "0", "conv", "k3"], "convshape: --near: 0 is below 1 (see 'convshape fit -h')\n"),
        (["calc", "--dims", "4", "conv", "k3"], "convshape: --dims: 4 is not between 1 and 3 (see 'convshape calc -h')\n"),
        (["calc", "-i", "8", "--format", "xml", "conv", "k3"],
         "convshape: --format: 'xml' is not one of table, json, csv, tsv (see 'convshape calc -h')\n"),
        (["solve", "-o", "3"], "convshape: --input is required (see 'convshape solve -h')\n"),
        (["calc", "--bogus"], "convshape: no such option: --bogus (Possible options: --columns) (see 'convshape calc -h')\n"),
        (["fit", "--bogus"], "convshape: no such option: --bogus (see 'convshape fit -h')\n"),
        (["calc", "-i", "8", "--columns", "params,bogus"],
         "convshape: --columns: no column 'bogus'; choose from index, layer, in, out, rf, jump, start, params, macs, "
         "memory, diagnostics (see 'convshape calc -h')\n"),
        (["calc", "-i", "8", "--columns", ","],
         "convshape: --columns: no column named; choose from index, layer, in, out, rf, jump, start, params, macs, "
         "memory, diagnostics (see 'convshape calc -h')\n"),
        (["calc", "-i", "8", "--batch", "0"], "convshape: --batch: 0 is below 1 (see 'convshape calc -h')\n"),
        (["calc", "-i", "8", "--dtype", "float64"],
         "convshape: --dtype: 'float64' is not one of float32, float16, bfloat16, int8 (see 'convshape calc -h')\n"),
        (["calc", "-i", "8", "--columns", "layer", "--format", "json", "conv", "k3"],
         "convshape: --columns is for the table with an input size (calc -i SIZE, without -q or --format)\n"),
        (["calc", "--compact", "conv", "k3"],
         "convshape: --compact is for the table with an input size (calc -i SIZE, without -q or --format)\n"),
        (["calc", "-c", "3", "--batch", "8", "conv", "k3"],
         "convshape: --batch needs an input size (-i): without one, MACs are formulas for one image, as torch "
         "counts them\n"),
        (["calc", "--macs", "torchinfo", "conv", "k3"],
         "convshape: --macs torchinfo needs an input size (-i): without one, MACs are formulas for one image, as "
         "torch counts them\n"),
        (["calc", "-i", "8", "--macs", "fvcore"],
         "convshape: --macs: 'fvcore' is not one of torch, torchinfo (see 'convshape calc -h')\n"),
        (["calc", "-i", "8", "-q", "--format", "json", "conv", "k3"],
         "convshape: -q prints the answer alone and cannot be combined with --format json: give one\n"),
        (["calc", "-i", "8", "-q", "--explain", "conv", "k3"],
         "convshape: -q prints the answer alone and cannot be combined with --explain: give one\n"),
        (["fit", "-q", "--format", "json", "conv", "k3"],
         "convshape: -q prints the answer alone and cannot be combined with --format json: give one\n"),
        (["solve", "-i", "8", "-o", "4", "-q", "--explain"],
         "convshape: -q prints the answer alone and cannot be combined with --explain: give one\n"),
        (["calc", "-i", "8", "-f", ""], "convshape: --file: the path is empty\n"),
        (["calc", "-i", "8", "-f", "-", "-f", "-"], "convshape: --file: '-' (stdin) can be read only once\n"),
    ]
    for args, stderr in cases:
        result = run(*args)
        assert (result.returncode, result.stdout, result.stderr) == (2, "", stderr), args


def test_convshape_alone_prints_a_short_usage_on_stderr(run):
    result = run()
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("Usage: convshape COMMAND") and "Try 'convshape -h' for help." in result.stderr
    assert len(result.stderr.splitlines()) <= 6


def test_help_names_what_each_option_takes(run):
    helps = run("calc", "-h").stdout + run("fit", "-h").stdout + run("solve", "-h").stdout + run("completions", "-h").stdout
    for metavar in ["-i, --input SIZE", "-c, --channels N", "-f, --file PATH", "--allow CODE", "--near N", "--range A:B",
                    "--limit N", "-o, --output SIZE", "SHELL"]:
        assert metavar in helps, metavar
    assert "<str>" not in helps and "int range" not in helps and "{shell}" not in helps
    assert "convshape completions bash --install\n" in run("completions", "-h", env={"COLUMNS": "60"}).stdout


def test_choices_take_any_case_and_keras_is_tf(run):
    tf = run("calc", "-i", "7", "-c", "1", "--convention", "tf", "-q", "conv", "k3", "s2", "psame")
    assert tf.stdout == "1x4x4\n"
    for word in ["keras", "Keras", "TF"]:
        assert run("calc", "-i", "7", "-c", "1", "--convention", word, "-q", "conv", "k3", "s2", "psame").stdout == tf.stdout
    assert run("calc", "-i", "7", "--format", "CSV", "conv", "k3").stdout.startswith("index,spec,")
    assert run("schema", "FIT").returncode == 0


def test_allow_implies_strict(run):
    allowed = run("calc", "-i", "6", "-q", "conv", "k3", "s2", "--allow", "floor_rounding")
    assert (allowed.returncode, allowed.stderr) == (0, "")
    other = run("calc", "-i", "6", "-q", "conv", "k3", "s2", "--allow", "stride_gap")
    assert other.returncode == 1 and "warning floor_rounding" in other.stderr
    assert run("calc", "-i", "6", "-q", "conv", "k3", "s2").returncode == 0  # without either, warnings pass


def test_several_files_are_read_in_order(run, tmp_path):
    (tmp_path / "a.stack").write_text("conv k3 c8\n")
    (tmp_path / "b.stack").write_text("maxpool k2\nconv kk3\n")
    both = run("calc", "-i", "10", "-f", str(tmp_path / "a.stack"), "-f", str(tmp_path / "a.stack"), "flatten", "-q")
    assert both.stdout == f"{8 * 6 * 6}\n"
    typo = run("calc", "-i", "10", "-f", str(tmp_path / "a.stack"), "-f", str(tmp_path / "b.stack"))
    assert typo.returncode == 2 and f"{tmp_path / 'b.stack'}:2:6: unknown token 'kk3'" in typo.stderr


def test_three_sizes_that_look_like_channels_get_a_note(run):
    note = ("convshape: note: -i 3x224x224 is read as D×H×W (3-D), a depth of 3; "
            "for channels × height × width, give -i 224x224 -c 3\n")
    result = run("calc", "-i", "3x224x224", "-c", "3", "-q", "conv", "k3")
    assert (result.stdout, result.stderr) == ("3x1x222x222\n", note)
    one = run("calc", "-i", "1x224x224", "-q", "conv", "k3")
    assert one.returncode == 1 and one.stderr.startswith("convshape: note: -i 1x224x224 is read")
    assert run("calc", "-i", "4x64x64", "-q", "conv", "k3").stderr.startswith("convshape: note: -i 4x64x64 is read")
    for args in (["-i", "5x224x224"], ["-i", "16x112x112", "-c", "3"], ["-i", "3x224x224", "conv3d", "k3"],
                 ["-i", "3x224x224", "conv", "k3x3x3"]):
        quiet = run("calc", *args, "-q", *(["conv", "k3"] if "conv3d" not in args and "conv" not in args else []))
        assert quiet.returncode == 0 and quiet.stderr == "", args
    table = run("calc", "-i", "3x224x224", "-c", "3", "conv", "k3")
    assert "note: -i 3x224x224 is read as D×H×W (3-D), a depth of 3;" in table.stdout
    data = json.loads(run("calc", "-i", "3x224x224", "-c", "3", "--format", "json", "conv", "k3").stdout)
    assert data["axes_from"] == "input" and data["notes"] == [note[len("convshape: note: "):-1]]


def test_where_the_number_of_axes_came_from_is_said(run):
    table = run("calc", "-i", "224", "conv", "k3", "p1x2x3")
    assert "note: 3 spatial axes (D×H×W), from 'p1x2x3' in 'conv k3 p1x2x3'" in table.stdout
    for args, origin in [(["-i", "224", "conv", "k3x3x3"], "'k3x3x3' in 'conv k3x3x3'"),
                         (["-i", "224", "conv1d", "k3"], "'conv1d' in 'conv1d k3'"),
                         (["-i", "224x224", "conv", "k3"], "input"), (["-i", "224", "conv", "k3"], "default"),
                         (["-i", "224", "--dims", "3", "conv", "k3"], "--dims")]:
        data = json.loads(run("calc", "--format", "json", *args).stdout)
        assert data["axes_from"] == origin, args
        assert bool(data["notes"]) == origin.startswith("'"), args
    # without -i too: in the formula table, in JSON, and on stderr with -q
    assert "note: 3 spatial axes (D×H×W), from 'p1x2x3' in 'conv k3 p1x2x3'" in run("calc", "conv", "k3", "p1x2x3").stdout
    formulas = json.loads(run("calc", "conv1d", "k3", "--format", "json").stdout)
    assert (formulas["axes_from"], formulas["notes"]) == ("'conv1d' in 'conv1d k3'", ["1 spatial axis (L), from 'conv1d' in 'conv1d k3'"])
    quiet = run("calc", "conv", "k3", "p1x2x3", "-q")
    assert (quiet.stdout, quiet.stderr) == ("Dx(H + 2)x(W + 4)\n", "convshape: note: 3 spatial axes (D×H×W), from 'p1x2x3' in 'conv k3 p1x2x3'\n")


def test_a_feature_count_that_needs_channels_says_so(run):
    quiet = run("calc", "-i", "224", "-q", "conv", "k3", "flatten")
    assert (quiet.returncode, quiet.stdout) == (0, "?\n")
    assert quiet.stderr == ("convshape: note: the feature count is unknown (?): it needs the input channels; "
                            "give them with -c (as -c 3 for RGB)\n")
    table = run("calc", "-i", "224", "conv", "k3", "flatten").stdout
    assert table.endswith("output: ?\nthe feature count needs the input channels: give them with -c (as -c 3 for RGB)\n")
    assert run("calc", "-i", "224", "-c", "3", "-q", "conv", "k3", "flatten").stderr == ""


def test_after_a_final_classifier_there_is_no_next_layer_to_size(run):
    classifier = run("calc", "-i", "32", "-c", "3", "conv", "k3", "gap", "flatten", "linear", "c10").stdout
    assert "\noutput: 10 features\nparams: " in classifier
    assert "field_exceeds_input" not in classifier.split("linear c10")[1]
    flat = run("calc", "-i", "32", "-c", "3", "conv", "k3", "gap", "flatten").stdout
    assert "\noutput: 3 features\nthe next linear layer needs in_features = 3\nparams: " in flat


def test_a_required_token_is_asked_for_plainly(run):
    assert run("calc", "-i", "8", "linear").stderr.startswith(
        "convshape: <command line>:1:1: linear needs its number of output features, such as c10\n")

"""Vision transformers: a map made a sequence of tokens, a class token, a position
embedding, self-attention and the token the head reads, as a user sees them (the table,
JSON, errors, fit), and torchvision's ViTs imported from the live module, checked against
torch itself (numel, FlopCounterMode on the meta device, the failure at other sizes)."""

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import have
from convshape.cli import app

ROOT = Path(__file__).resolve().parent.parent
VIT = str(ROOT / "examples" / "vit-b-16.stack")
runner = CliRunner()
needs_torchvision = [pytest.mark.torch, pytest.mark.skipif(not (have("torch") and have("torchvision")),
                                                           reason="torch and torchvision are not installed")]


def invoke(*args):
    return runner.invoke(app, list(args))


TINY = "conv k4 s4 c12, tokens, cls, posembed n17, @x ln, attn h3, add x, token i0, linear c10"  # 16 + 1 tokens


def test_a_sequence_shows_as_tokens_by_width_in_the_table():
    result = invoke("calc", "-i", "16", "-c", "3", "--no-color", "--columns", "#,layer,in,out,rf,jump,start", TINY)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "│ 2 │ tokens           │       12×4×4 │ 16×12 tokens │  4 │    4 │   1.5 │" in lines
    assert "│ 3 │ cls              │ 16×12 tokens │ 17×12 tokens │  4 │    4 │   1.5 │" in lines
    # attention: every token reads every patch, the same 16 pixels for all (jump 0), centred on 7.5
    attention = next(line for line in lines if line.startswith("│ 6 │ attn h3"))
    assert attention.split("│")[3:8] == [" 17×12 tokens ", " 17×12 tokens ", " 16 ", "    0 ", "   7.5 "]
    assert "output: 10 features" in result.stdout


def test_json_gives_tokens_and_width():
    data = json.loads(invoke("calc", "-i", "16", "-c", "3", "--format", "json", TINY).stdout)
    rows = {row["index"]: row for row in data["layers"]}
    assert (rows[2]["tokens"], rows[2]["width"], rows[2]["features"], rows[2]["out_size"]) == (16, 12, None, None)
    assert (rows[3]["tokens"], rows[3]["width"]) == (17, 12)
    assert (rows[8]["tokens"], rows[8]["width"], rows[8]["features"]) == (None, None, 12)
    assert (rows[1]["tokens"], rows[1]["width"]) == (None, None)
    assert data["output"]["tokens"] is None and data["output"]["features"] == 10
    sequence = json.loads(invoke("calc", "-i", "16", "-c", "3", "--format", "json", "conv k4 s4 c12, tokens").stdout)
    assert sequence["output"] == {"size": None, "channels": 12, "features": None, "tokens": 16}
    assert invoke("calc", "-i", "16", "-c", "3", "-q", "conv k4 s4 c12, tokens").stdout == "16x12\n"


def test_attention_s_costs_are_torch_s_multihead_attention():
    """nn.MultiheadAttention(12, 3): 4·12² + 4·12 parameters; FlopCounterMode counts the four
    projections (4·N·C²) and scaled dot-product attention's two products (2·N²·C)."""
    result = invoke("calc", "-i", "16", "-c", "3", "--no-color", "--explain", TINY)
    assert "3 heads of width 4: params 4·12² + 4·12 = 624" in result.stdout
    assert "MACs 4·17·12² (projections) + 2·17²·12 (QKᵀ, ·V) = 16,728" in result.stdout
    assert "params 17·12 = 204" in result.stdout  # the position embedding
    assert "one token of width 12: params 12" in result.stdout  # the class token
    nobias = invoke("calc", "-i", "16", "-c", "3", "--no-color", "--explain", "conv k4 s4 c12, tokens, attn h3 nobias")
    assert "params 4·12² = 576" in nobias.stdout


@pytest.mark.parametrize("stack, status, message", [
    ("conv k4 s4 c12, tokens, posembed n17", 1, "layer 3 (posembed n17): the position embedding holds 17 tokens and "
     "the sequence has 16: PyTorch fails with 'The size of tensor a (16) must match the size of tensor b (17) at "
     "non-singleton dimension 1'"),
    ("conv k4 s4 c12, tokens, attn h5", 1, "layer 3 (attn h5): 12 is not a multiple of 5 heads: PyTorch fails with "
     "'embed_dim must be divisible by num_heads'"),
    ("conv k4 s4 c12, cls", 1, "layer 2 (cls): cls works on a sequence of tokens, but it gets a 4×4 map: make the "
     "map a sequence with 'tokens' first"),
    ("conv k4 s4 c12, flatten, attn h3", 1, "attn works on a sequence of tokens, but it gets flat features"),
    ("conv k4 s4 c12, tokens, conv k1", 1, "layer 3 (conv k1): conv needs spatial axes, but tokens at layer 2 made "
     "the map a sequence of tokens"),
    ("conv k4 s4 c12, tokens, gap", 1, "gap needs spatial axes, but tokens at layer 2 made the map a sequence"),
    ("conv k4 s4 c12, tokens, token i16", 1, "layer 3 (token i16): the sequence has 16 tokens: there is no token 16 "
     "(PyTorch fails with 'index 16 is out of bounds for dimension 1 with size 16')"),
    ("conv k4 s4 c12, tokens, token i-17", 1, "there is no token -17"),
    ("conv k4 s4 c12 @a, tokens, add a", 1, "layer 3 (add a): add cannot join its inputs: row 1 gives a 4×4 map, "
     "row 2 gives 16 tokens of width 12"),
    ("conv k4 s4 c12, tokens @a, cls, add a", 1, "row 2 gives 16 tokens of width 12, row 3 gives 17 tokens of "
     "width 12"),
    ("conv k4 s4 c12, tokens @a, linear c12, cat a", 1, "cat joins channels, and sequences have none"),
    ("expect o15, conv k4 s4", 1, "layer 1 (expect o15): the model takes only 15×15, and gets 16×16: torchvision's "
     "ViT fails with 'Wrong image height! Expected 15 but got 16!'"),
    ("conv k4 s4 c12, tokens, attn", 2, "attn needs its number of heads, such as h12"),
    ("conv k4 s4 c12, tokens, posembed", 2, "posembed needs the number of tokens it is learned for, such as n197"),
])
def test_what_a_sequence_cannot_do_is_said_with_torch_s_words(stack, status, message):
    result = invoke("calc", "-i", "16", "-c", "3", "-q", stack)
    assert result.exit_code == status
    assert message in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("stack", [
    "conv k4 s4 c12, tokens, posembed n16",  # the embedding holds exactly the tokens: == runs
    "conv k4 s4 c12, tokens, attn h12",  # heads == width: one value each
    "conv k4 s4 c12, tokens, attn h1",
    "conv k4 s4 c12, tokens, token i15",  # the last token
    "conv k4 s4 c12, tokens, token i-16",  # the first, from the end
    "expect o16, conv k4 s4",
    "expect o16x16, conv k4 s4",
    "conv k4 s4 c12, tokens @a, linear c12, add a",  # the same sequence on both sides
])
def test_the_boundaries_run(stack):
    result = invoke("calc", "-i", "16", "-c", "3", "-q", stack)
    assert result.exit_code == 0, result.stderr


def test_the_width_is_checked_on_a_sequence_as_channels():
    result = invoke("calc", "-i", "16", "-c", "3", "-q", "conv k4 s4 c12, tokens, ln in12, linear c8 in13")
    assert result.exit_code == 1
    assert "layer 4 (linear c8 in13)" in result.stderr and "12" in result.stderr


def test_a_flatten_of_a_sequence_holds_every_token():
    result = invoke("calc", "-i", "16", "-c", "3", "-q", "conv k4 s4 c12, tokens, cls, flatten")
    assert result.stdout == "204\n"  # 17 · 12


def test_the_vit_example_at_the_size_it_takes_and_at_another():
    result = invoke("calc", "-i", "224", "-c", "3", "--no-color", "-f", VIT)
    assert result.exit_code == 0
    assert "197×768 tokens" in result.stdout and "output: 1000 features" in result.stdout
    other = invoke("calc", "-i", "97", "-c", "3", "-q", "-f", VIT)
    assert other.exit_code == 1
    assert "layer 1 (expect o224): the model takes only 224×224, and gets 97×97: torchvision's ViT fails with " \
           "'Wrong image height! Expected 224 but got 97!'" in other.stderr


@pytest.mark.parametrize("command", [["fit", "-c", "3"], ["calc", "-c", "3"], ["fit", "-c", "3", "-q"]])
def test_fit_and_calc_without_a_size_say_they_do_not_follow_a_sequence_yet(command):
    result = invoke(*command, TINY)
    assert result.exit_code == 1
    said = " ".join((result.stdout + result.stderr).split())
    assert "not answered: layer 2: fit and calc without -i do not follow a sequence of tokens yet (its length is " \
           "a product over the axes, and a position embedding fixes it): give -i" in said
    if command[0] == "calc":  # no number is guessed past it
        rows = [line for line in result.stdout.splitlines() if line.startswith("│ 3 ")]
        assert rows and "not computed" in rows[0] and "?" in rows[0]


def test_fit_answers_a_model_that_checks_its_size_with_the_sizes_that_pass():
    """ViT checks its input first (expect o224): the sizes are the ones that give 224 there, run
    through the rest (the sequence included) one by one."""
    vit = invoke("fit", "-c", "3", "--no-color", "-f", VIT)
    assert vit.exit_code == 0
    assert "│ H    │ H = 224 only      │ 224            │ 224            │" in vit.stdout
    stem = invoke("fit", "-c", "3", "--no-color", "conv k3 s2 p1, expect o56")
    assert "│ H    │ H = 111, 112 only │ 111            │ 111            │" in stem.stdout
    none = invoke("fit", "-c", "3", "-q", "conv k2 s2, expect o56, conv k60")
    assert none.exit_code == 1
    # 113 and 114 both give 56; 114's last pixel is never read: valid, not clean
    rules = json.loads(invoke("fit", "-c", "3", "--format", "json", "conv k3 s2, expect o56").stdout)["rules"][0]
    assert (rules["rule"], rules["valid_rule"]) == ("H = 113 only", "H = 113, 114 only")


def test_keras_export_says_what_it_has_no_layer_for():
    result = invoke("export", "--to", "keras", "-i", "224", "-c", "3", "-f", VIT)
    assert result.exit_code == 1
    assert "cls" in result.stderr and "Keras export has no layer for cls" in result.stderr


# ----------------------------------------------------------------------------- against torch

torch_only = pytest.mark.skipif(not (have("torch") and have("torchvision")), reason="torch and torchvision are not "
                                                                                    "installed")


def _torchvision():
    sys.path.insert(0, str(ROOT / "tests" / "golden"))
    import graph_golden

    graph_golden._install_torchvision_stub_ops()
    import torchvision.models

    return torchvision.models


def _meta_macs(model, size) -> int:
    """FlopCounterMode on the meta device, where scaled dot-product attention is counted."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        model(torch.empty((1, 3, *size), device="meta"))
    return counter.get_total_flops() // 2


def _exported(tmp_path, stack: str, name: str):
    """The model `export --to torch` writes for ``stack``, built from its file, on the meta device."""
    import importlib.util

    target = tmp_path / f"{name}.py"
    result = invoke("export", "--to", "torch", "-i", "224", "-c", "3", "-f", stack, "-o", str(target))
    assert result.exit_code == 0, result.output
    spec = importlib.util.spec_from_file_location(name, target)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.model.to("meta")


def _same_counts(model, reference, sizes=(224,)):
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in reference.parameters())
    assert sum(b.numel() for b in model.buffers()) == sum(b.numel() for b in reference.buffers())
    for size in sizes:
        assert _meta_macs(model, (size, size)) == _meta_macs(reference, (size, size))


@pytest.mark.torch
@torch_only
@pytest.mark.parametrize("name", ["vit_b_16", "vit_b_32", "vit_l_16"])
def test_torchvision_s_vits_import_live_with_torch_s_counts_and_failures(name):
    from convshape.counts import count
    from convshape.importers.torch_module import TorchFails, read_module

    models = _torchvision()
    capture = read_module(f"torchvision.models:{name}")
    model = getattr(models, name)().to("meta").eval()
    totals = count(capture.result).totals
    assert totals.params == sum(p.numel() for p in model.parameters())
    assert totals.macs == _meta_macs(model, (224, 224))
    assert capture.result.output.features == 1000
    stack = capture.imported.stack
    assert "expect o224x224" in stack and f"posembed n{(224 // int(name[-2:])) ** 2 + 1}" in stack
    for size in (256, 97):  # torch refuses in forward's first line; so does the import, with torch's words
        with pytest.raises(TorchFails, match=f"Wrong image height! Expected 224 but got {size}!"):
            read_module(f"torchvision.models:{name}", (size,))
        invalid = invoke("calc", "-i", str(size), "-c", "3", "-q", stack)
        assert invalid.exit_code == 1 and "layer 1 (expect o224x224)" in invalid.stderr
        assert f"Expected 224 but got {size}!" in invalid.stderr


@pytest.mark.torch
@torch_only
def test_a_users_small_vit_imports_with_its_own_patches_and_heads(tmp_path):
    """A ViT written by hand (flatten(2).transpose(1, 2), a cls parameter, a sum with the
    positions, attention, the class token's output): the rows, and the counts torch gives."""
    import torch

    (tmp_path / "tiny.py").write_text(
        "import torch\nfrom torch import nn\n\n"
        "class Tiny(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.patch = nn.Conv2d(3, 48, 8, stride=8)\n"
        "        self.cls = nn.Parameter(torch.zeros(1, 1, 48))\n"
        "        self.pos = nn.Parameter(torch.zeros(1, 17, 48))\n"
        "        self.norm = nn.LayerNorm(48)\n"
        "        self.attn = nn.MultiheadAttention(48, 4, batch_first=True)\n"
        "        self.head = nn.Linear(48, 10)\n\n"
        "    def forward(self, x):\n"
        "        x = self.patch(x).flatten(2).transpose(1, 2)\n"
        "        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos\n"
        "        y = self.norm(x)\n"
        "        x = x + self.attn(y, y, y, need_weights=False)[0]\n"
        "        return self.head(x[:, 0])\n")
    from convshape.counts import count
    from convshape.importers.torch_module import read_module

    capture = read_module(f"{tmp_path / 'tiny.py'}:Tiny", (32,))
    words = [line.split("#")[0].split()[0] for line in capture.imported.stack.splitlines()
             if line.strip() and not line.startswith(("#", "@", "from"))]
    assert words == ["conv", "tokens", "cls", "posembed", "ln", "attn", "add", "token", "linear"]
    model = capture.module
    totals = count(capture.result).totals
    assert totals.params == sum(p.numel() for p in model.parameters())
    assert totals.macs == _meta_macs(model, (32, 32))
    assert torch is not None


@pytest.mark.torch
@torch_only
def test_an_assert_other_than_the_input_s_size_equal_to_n_is_no_row_and_the_import_says_so(tmp_path):
    """`x.shape[2] > 8` is no `expect`: no row, and a note that calc does not check it; a rank
    check (`x.dim() == 4`) holds for every stack and goes unsaid."""
    (tmp_path / "checked.py").write_text(
        "import torch\nfrom torch import nn\n\n\nclass Checked(nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n        self.conv = nn.Conv2d(3, 8, 3)\n\n"
        "    def forward(self, x):\n        torch._assert(x.dim() == 4, 'a batch of maps')\n"
        "        torch._assert(x.shape[2] > 8, 'too small')\n        return self.conv(x)\n")
    result = invoke("import", f"{tmp_path / 'checked.py'}:Checked", "-i", "16", "-c", "3")
    assert result.exit_code == 0, result.output
    rows = [line.split("#")[0].split() for line in result.stdout.splitlines() if line and not line.startswith("#")]
    assert rows == [["conv", "k3", "c8", "in3"]]
    said = " ".join(result.stderr.split())
    assert "torch._assert other than the input's x.shape[i] == n before any layer has no row (_assert (checked.py:12))" \
        in said and "it held at 16x16; at another size the model may fail there, and calc would not say so" in said
    assert said.count("torch._assert") == 1


@pytest.mark.torch
@torch_only
def test_an_attention_row_s_field_is_what_torch_s_gradient_reaches():
    """18×18 in 4×4 patches: 16 tokens over pixels 0..15 (16 and 17 never read); after
    attention every token's gradient reaches all of 0..15, and no token reaches more."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    patch, attention = nn.Conv2d(1, 8, 4, stride=4), nn.MultiheadAttention(8, 2, batch_first=True)
    x = torch.randn(1, 1, 18, 18, requires_grad=True)
    tokens = patch(x).flatten(2).transpose(1, 2)
    out = attention(tokens, tokens, tokens, need_weights=False)[0]
    reached = []
    for token in (0, 5, 15):
        x.grad = None
        out[0, token].sum().backward(retain_graph=True)
        rows = (x.grad[0, 0].abs().sum(dim=1) > 0).nonzero().flatten().tolist()
        reached.append((min(rows), max(rows)))
    assert reached == [(0, 15)] * 3
    data = json.loads(invoke("calc", "-i", "18", "-c", "1", "--format", "json",
                             "conv k4 s4 c8, tokens, attn h2").stdout)
    field = data["layers"][2]["rf"]
    assert (field["size"], field["jump"], field["start"]) == ([16, 16], [0, 0], [7.5, 7.5])  # pixels 0..15


@pytest.mark.torch
@torch_only
def test_the_torch_export_of_the_vit_example_builds_torchvision_s_counts(tmp_path):
    _same_counts(_exported(tmp_path, VIT, "vit_export"), _torchvision().vit_b_16().to("meta"))


# ----------------------------------------------------------------------------- Swin: windows and patch merging

SWIN = str(ROOT / "examples" / "swin-t.stack")


def test_window_attention_says_its_padding_windows_and_costs():
    result = invoke("calc", "-i", "10", "-c", "8", "--no-color", "--explain", "wattn k4 h2 s2")
    assert result.exit_code == 0
    said = result.stdout
    assert "10×10, padded to 12×12, shifted by 2×2: 9 windows of 4×4; the shape kept" in said
    assert "2 heads in 4×4 windows: params 386 (projections 4·8² + 4·8, position bias table)" in said
    assert "MACs on the padded 12×12: 4·8² + 2·4×4·8 per position = 73,728" in said  # 144·(256 + 256)
    assert "1: note window_padding: on H and W: 10 is padded to 12 for windows of 4" in said
    assert "params: 386, and 256 in buffers" in said  # 4·8² + 4·8 + 7·7·2; the index 4⁴
    exact = invoke("calc", "-i", "12", "-c", "8", "--no-color", "--explain", "wattn k4 h2 s2")
    assert "window_padding" not in exact.stdout and "12×12, shifted by 2×2: 9 windows" in exact.stdout


def test_swin_v2_s_attention_and_patch_merging_count_their_own_parts():
    v1 = invoke("calc", "-i", "8", "-c", "8", "--format", "json", "wattn k4 h2, patchmerge")
    v2 = invoke("calc", "-i", "8", "-c", "8", "--format", "json", "wattn k4 h2 v2, patchmerge v2")
    rows1, rows2 = (json.loads(r.stdout)["layers"] for r in (v1, v2))
    # V2: no table; a logit scale per head and the MLP 2 → 512 → heads; its buffers add the 7·7·2 coordinates
    assert (rows1[0]["params"], rows2[0]["params"]) == (288 + 49 * 2, 288 + 2 + 1024 + 512 + 1024)
    assert (rows1[0]["buffers"], rows2[0]["buffers"]) == (256, 256 + 98)
    assert (rows1[1]["params"], rows2[1]["params"]) == (32 * 16 + 64, 32 * 16 + 32)  # LayerNorm(4C) or (2C)
    assert rows1[1]["out_size"] == [4, 4] and rows1[1]["out_channels"] == 16
    assert rows2[0]["macs"] - rows1[0]["macs"] == 49 * (2 * 512 + 512 * 2)  # the MLP over its 7×7 table


@pytest.mark.parametrize("size, out, note", [(8, 4, False), (9, 5, True), (1, 1, True), (2, 1, False)])
def test_patch_merging_halves_a_map_padding_an_odd_size(size, out, note):
    result = invoke("calc", "-i", str(size), "-c", "4", "--no-color", "patchmerge")
    assert f"output: 8 × {out} × {out}" in result.stdout
    assert ("merge_padding: on H and W: the odd" in result.stdout) == note


@pytest.mark.parametrize("stack, status, message", [
    ("wattn k7 h5", 1, "layer 1 (wattn k7 h5): 8 channels are not a multiple of 5 heads"),
    ("wattn k7 h2 s7", 2, "a window's shift is from 0 to the window less one (Swin's is half of it: k7 s3)"),
    ("wattn k7 h2 s-1", 2, "a window's shift is from 0 to the window less one"),
    ("flatten, wattn k7 h2", 1, "wattn needs spatial axes, but flatten at layer 1 removed them"),
    ("wattn h2", 2, "wattn needs its window and heads, such as k7 h3"),
    ("conv k3 c8 @a, tokens, wattn k2 h2", 1, "wattn needs spatial axes, but tokens at layer 2 made the map a sequence"),
])
def test_what_window_attention_cannot_do_is_said(stack, status, message):
    result = invoke("calc", "-i", "14", "-c", "8", "-q", stack)
    assert result.exit_code == status
    assert message in result.stderr


def test_window_attention_needs_two_axes():
    result = invoke("calc", "-i", "8x8x8", "-c", "8", "-q", "wattn k2 h2")
    assert result.exit_code == 1 and "wattn works on two spatial axes (H and W), not 3" in result.stderr


def test_the_shift_is_dropped_where_one_window_covers_the_map():
    """torchvision: 'If window size is larger than feature size, there is no need to shift window'."""
    covered = json.loads(invoke("calc", "-i", "7", "-c", "8", "--format", "json", "wattn k7 h2 s3").stdout)
    shifted = json.loads(invoke("calc", "-i", "8", "-c", "8", "--format", "json", "wattn k7 h2 s3").stdout)
    assert covered["layers"][0]["rf"]["start"] == [3, 3]  # pixels 0..6, unshifted
    assert shifted["layers"][0]["rf"]["start"] == [-1, -1]  # the roll: output 0's window is -4..2


def test_swin_t_fits_every_size_from_4_and_is_clean_on_multiples_of_4():
    result = invoke("fit", "-c", "3", "--no-color", "-f", SWIN)
    assert result.exit_code == 0
    assert "│ H    │ H ≡ 0 (mod 4), H ≥ 4 │ 4              │ 4              │" in result.stdout


def test_a_residual_around_window_attention_is_not_called_misaligned():
    result = invoke("calc", "-i", "97", "-c", "3", "--no-color", "-f", SWIN)
    assert result.exit_code == 0 and "merge_misaligned" not in result.stdout
    plain = invoke("calc", "-i", "16", "-c", "8", "--no-color", "@x conv k2 p1:0 c8, add x")  # a conv's still is
    assert "merge_misaligned" in plain.stdout
    attended = invoke("calc", "-i", "16", "-c", "8", "--no-color", "@x wattn k4 h2, add x")
    assert attended.exit_code == 0 and "merge_misaligned" not in attended.stdout


@pytest.mark.parametrize("before", ["conv k1 c8", "wattn k2 h2", "wattn k4 h2"])
def test_after_the_same_window_attention_branches_are_checked_as_a_cnn_s_are(before):
    """Both branches read the attention's output: k3 s2 p1 and k2 s2 centre their fields a pixel
    apart, with or without the attention before the fork; only an attention on one branch alone
    is exempt."""
    stack = f"{before} @a, conv k3 s2 p1 c8 @b, from a conv k2 s2 c8, add b"
    result = invoke("calc", "-i", "18", "-c", "8", "--format", "json", stack)
    merge = json.loads(result.stdout)["layers"][-1]
    assert [w["code"] for w in merge["warnings"]] == ["merge_misaligned"]
    aligned = invoke("calc", "-i", "18", "-c", "8", "--format", "json", f"{before} @a, conv k4 s2 p1 c8 @b, from a"
                     " conv k2 s2 c8, add b")
    warned = [w["code"] for w in json.loads(aligned.stdout)["layers"][-1]["warnings"]]
    # a window of 4 gives output 0 of k4 s2 p1 the windows at -4 and 0 (field -4..3), and of k2 s2 the one at 0
    assert warned == (["merge_misaligned"] if before == "wattn k4 h2" else [])


@pytest.mark.torch
@torch_only
@pytest.mark.parametrize("size, window, shift", [(10, 4, 2), (9, 3, 1), (8, 7, 3), (7, 7, 3), (13, 5, 2), (12, 4, 0)])
def test_a_window_s_field_is_what_torch_s_gradient_reaches(size, window, shift):
    """torchvision's ShiftedWindowAttention: the input rows each output row's gradient reaches.
    Positions its shifted-window mask leaves out get the weight e^-100, a gradient near 1e-44,
    below what float32 resolves in any output: they are not in the field (the threshold)."""
    import torch

    _torchvision()
    from torchvision.models.swin_transformer import ShiftedWindowAttention

    from convshape import calc
    from convshape.draw.field import field_picture

    torch.manual_seed(0)
    module = ShiftedWindowAttention(8, [window, window], [shift, shift], 2)
    x = torch.randn(1, size, size, 8, requires_grad=True)
    out = module(x)
    result = calc(f"wattn k{window} h2 s{shift}", size, channels=8)
    for o in range(size):
        x.grad = None
        out[0, o, 0].sum().backward(retain_graph=True)
        torch_rows = sorted((x.grad[0].abs().amax(dim=(1, 2)) > 1e-20).nonzero().flatten().tolist())
        ours = sorted({position[0] for position in field_picture(result, 1, (o, 0)).reached})
        assert ours == torch_rows, o


@pytest.mark.torch
@torch_only
@pytest.mark.parametrize("name", ["swin_t", "swin_s", "swin_v2_t"])
def test_torchvision_s_swins_import_live_with_torch_s_counts_at_every_size(name):
    from convshape import calc
    from convshape.counts import count
    from convshape.importers.torch_module import read_module

    models = _torchvision()
    capture = read_module(f"torchvision.models:{name}")
    model = getattr(models, name)().to("meta").eval()
    params = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for b in model.buffers())
    for size in (224, 256, 97):
        result = calc(capture.imported.stack, size, channels=3)
        totals = count(result).totals
        assert (totals.params, totals.buffers, totals.macs) == (params, buffers, _meta_macs(model, (size, size)))
        assert result.output.features == 1000


@pytest.mark.torch
@torch_only
def test_swin_t_runs_in_torch_exactly_where_fit_says():
    import torch

    model = _torchvision().swin_t().to("meta").eval()

    def runs(size):
        try:
            model(torch.empty((1, 3, size, size), device="meta"))
        except RuntimeError:
            return False
        return True

    sizes = [3, 4, 5, 7, 31, 32, 33, 97, 223, 224, 225, 511, 512]
    assert [runs(s) for s in sizes] == [s >= 4 for s in sizes]
    for size in sizes:
        result = invoke("calc", "-i", str(size), "-c", "3", "-q", "-f", SWIN)
        assert (result.exit_code == 0) == (size >= 4)
        floor = invoke("calc", "-i", str(size), "-c", "3", "--format", "json", "-f", SWIN)
        if size >= 4:
            dropped = any(w["code"] == "floor_rounding" for row in json.loads(floor.stdout)["layers"]
                          for w in row["warnings"])
            assert dropped == (size % 4 != 0)


@pytest.mark.torch
@torch_only
def test_the_torch_export_of_swin_t_builds_torchvision_s_counts(tmp_path):
    _same_counts(_exported(tmp_path, SWIN, "swin_export"), _torchvision().swin_t().to("meta"), (224, 97))


# ----------------------------------------------------------------------------- MaxViT: blocks and grids

MAXVIT = str(ROOT / "examples" / "maxvit-t.stack")


@pytest.mark.parametrize("stack, message", [
    ("battn k7 h2", "layer 1 (battn k7 h2): 57×57 is not a whole number of 7×7 blocks: PyTorch fails with 'shape "
     "'[1, 8, 8, 7, 8, 7]' is invalid for input of size 25992'"),
    ("gattn k7 h2", "layer 1 (gattn k7 h2): 57×57 is not a whole number of 8×8 grid cells: PyTorch fails with "
     "'shape '[1, 8, 7, 8, 7, 8]' is invalid for input of size 25992'"),
    ("battn k7 h3", "8 channels are not a multiple of 3 heads"),
])
def test_a_partition_that_does_not_divide_the_map_is_torch_s_reshape_error(stack, message):
    result = invoke("calc", "-i", "57", "-c", "8", "-q", stack)
    assert result.exit_code == 1 and message in result.stderr


def test_a_grid_whose_cells_make_other_sequences_than_its_bias_is_torch_s_broadcast_error():
    """torchvision's grid layer built for 4×4 with k3: cells of 1, sequences of 16 against a 3×3 bias."""
    result = invoke("calc", "-i", "4", "-c", "8", "-q", "gattn k3 h2 o4")
    assert result.exit_code == 1
    assert "layer 1 (gattn k3 h2 o4): 4×4 in a grid of 3×3 makes sequences of 16 positions, and its position bias " \
           "is for 9: PyTorch fails with 'The size of tensor a (16) must match the size of tensor b (9) at " \
           "non-singleton dimension 4'" in result.stderr


def test_a_layer_built_for_one_map_refuses_another_at_its_departition():
    result = invoke("calc", "-i", "63", "-c", "8", "-q", "battn k7 h2 o56")
    assert "the layer is built for 56×56 and gets 63×63: PyTorch fails with 'shape '[1, 8, 8, 7, 7, 8]' is " \
           "invalid for input of size 31752'" in result.stderr
    assert invoke("calc", "-i", "56", "-c", "8", "-q", "battn k7 h2 o56, gattn k7 h2 o56").exit_code == 0


@pytest.mark.parametrize("stack, rule", [
    ("battn k7 h2", "H ≡ 0 (mod 7), H ≥ 7"),
    ("gattn k3 h2", "H ≡ 0 (mod 3), H ≥ 3"),
    ("conv k3 s2 p1, battn k7 h2, battn k2 h2", "H ≡ 0, 27 (mod 28), H ≥ 27"),
])
def test_fit_knows_a_partition_takes_only_multiples(stack, rule):
    result = invoke("fit", "-c", "8", "--no-color", stack)
    assert f"│ H    │ {rule} │" in result.stdout
    for size in range(1, 60):
        runs = invoke("calc", "-i", str(size), "-c", "8", "-q", stack).exit_code == 0
        if stack == "battn k7 h2":
            assert runs == (size % 7 == 0)
        elif stack == "gattn k3 h2":
            assert runs == (size % 3 == 0)
        else:
            assert runs == (size % 28 in (0, 27)), size


def test_maxvit_t_fits_only_where_its_layers_get_their_maps():
    result = invoke("fit", "-c", "3", "--no-color", "-f", MAXVIT)
    assert result.exit_code == 0
    assert "│ H    │ H = 221, 222, 223, 224 only │ 221            │ 221            │" in result.stdout
    assert invoke("fit", "-c", "3", "-q", "-f", MAXVIT).stdout == "221\n"


@pytest.mark.torch
@torch_only
def test_maxvit_t_runs_in_torch_exactly_where_fit_says_over_32_to_512():
    import torch

    model = _torchvision().maxvit_t().to("meta").eval()
    runs = []
    for size in range(32, 513):
        try:
            model(torch.empty((1, 3, size, size), device="meta"))
        except RuntimeError:
            continue
        runs.append(size)
    assert runs == [221, 222, 223, 224]  # what fit says (above), by brute force


@pytest.mark.torch
@torch_only
@pytest.mark.parametrize("kind, partition", [("battn", "window"), ("gattn", "grid")])
def test_a_partition_s_field_is_what_torch_s_gradient_reaches(kind, partition):
    import torch
    from torch import nn

    _torchvision()
    from torchvision.models.maxvit import PartitionAttentionLayer

    from convshape import calc
    from convshape.draw.field import field_picture

    torch.manual_seed(0)
    size = 12
    layer = PartitionAttentionLayer(8, 4, 3, partition, (size, size), 4, nn.GELU, nn.LayerNorm, 0.0, 0.0, 0.0)
    x = torch.randn(1, 8, size, size, requires_grad=True)
    out = layer(x)
    result = calc(f"{kind} k3 h2 o{size}", size, channels=8)
    for o in range(size):
        x.grad = None
        out[0, 0, o, 0].backward(retain_graph=True)
        torch_rows = sorted((x.grad[0].abs().amax(dim=(0, 2)) > 1e-20).nonzero().flatten().tolist())
        ours = sorted({position[0] for position in field_picture(result, 1, (o, 0)).reached})
        assert ours == torch_rows, o


@pytest.mark.torch
@torch_only
def test_torchvision_s_maxvit_imports_live_with_torch_s_counts_and_failure():
    from convshape import calc
    from convshape.counts import count
    from convshape.importers.torch_module import TorchFails, read_module

    capture = read_module("torchvision.models:maxvit_t")
    model = _torchvision().maxvit_t().to("meta").eval()
    totals = count(capture.result).totals
    assert (totals.params, totals.buffers, totals.macs) == (
        sum(p.numel() for p in model.parameters()), sum(b.numel() for b in model.buffers()),
        _meta_macs(model, (224, 224)))
    with pytest.raises(TorchFails, match=r"shape '\[1, 64, 9, 7, 9, 7\]' is invalid for input of size 262144"):
        read_module("torchvision.models:maxvit_t", (256,))
    at_256 = calc(capture.imported.stack, 256, channels=3)
    assert "PyTorch fails with 'shape '[1, 64, 9, 7, 9, 7]' is invalid for input of size 262144'" in \
        at_256.error_row.error.message


@pytest.mark.torch
@torch_only
def test_the_torch_export_of_maxvit_t_builds_torchvision_s_counts(tmp_path):
    _same_counts(_exported(tmp_path, MAXVIT, "maxvit_export"), _torchvision().maxvit_t().to("meta"))


@pytest.mark.torch
@torch_only
@pytest.mark.parametrize("name, cls", [("vit_b_16", "VisionTransformer"), ("swin_t", "SwinTransformer"),
                                       ("maxvit_t", "MaxVit")])
def test_print_model_of_a_transformer_is_refused_with_the_route_that_is_exact(name, cls, tmp_path):
    text = tmp_path / f"{name}.txt"
    text.write_text(str(getattr(_torchvision(), name)()))
    result = invoke("import", str(text))
    assert result.exit_code == 1
    said = " ".join(result.stderr.split())
    assert f"print(model) does not show what a vision transformer's rows need ({cls}:" in said
    assert "The exact route: the live model (convshape import MODULE:ATTR)" in said


# ----------------------------------------------------------------------------- Keras' ViT-style layers


@pytest.mark.keras
@pytest.mark.skipif(not have("keras"), reason="keras is not installed")
def test_a_keras_vit_style_model_imports_with_keras_counts(tmp_path):
    """Conv2D patches, Reshape to tokens, LayerNormalization, MultiHeadAttention(x, x), Dense
    over each token, Add, Flatten: Keras' own count_params and output shape."""
    import keras
    from keras import layers

    inputs = keras.Input((32, 32, 3))
    x = layers.Conv2D(48, 8, strides=8)(inputs)
    x = layers.Reshape((16, 48))(x)
    y = layers.LayerNormalization()(x)
    y = layers.MultiHeadAttention(4, 12)(y, y)
    x = layers.Add()([x, y])
    y = layers.Dense(96, activation="gelu")(layers.LayerNormalization()(x))
    x = layers.Add()([x, layers.Dense(48)(y)])
    outputs = layers.Dense(10)(layers.Flatten()(x))
    model = keras.Model(inputs, outputs)
    path = tmp_path / "vit.json"
    path.write_text(model.to_json())
    data = json.loads(invoke("calc", "-f", str(path), "--format", "json").stdout)
    assert data["totals"]["params"] == model.count_params()
    assert data["output"]["features"] == model.output_shape[-1]
    kinds = [row["kind"] for row in data["layers"]]
    assert kinds[:4] == ["conv", "tokens", "ln", "attn"] and kinds.count("linear") == 3
    assert data["layers"][1]["tokens"] == 16 and data["layers"][1]["width"] == 48

    other = keras.Model(inputs, layers.MultiHeadAttention(4, 8)(x, x))  # heads of 8 on a width of 48
    path.write_text(other.to_json())
    refused = invoke("import", str(path))
    assert refused.exit_code == 1
    assert "heads of 8 (values 8) on a width of 48 have no row" in " ".join(refused.stderr.split())

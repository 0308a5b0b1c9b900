"""`convshape import MODULE:ATTR` against torch itself: every torchvision CNN, captured
on the meta device, gives torch's parameter count (numel), torch's MACs
(FlopCounterMode / 2) and the forward's output shape at 224, 97 and 320x480, or fails
where torch fails. The references are computed here, by torch, on torchvision's modules."""

import json
import sys
import textwrap

import pytest

from conftest import have

pytestmark = [pytest.mark.torch,
              pytest.mark.skipif(not (have("torch") and have("torchvision")),
                                 reason="torch and torchvision are not installed")]

TRANSFORMERS = ("vit_", "swin_", "maxvit_")


def _torchvision():
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent / "golden"))
    import graph_golden

    graph_golden._install_torchvision_stub_ops()
    import torchvision.models

    return torchvision.models


def _cnns() -> list[str]:
    """``module:factory`` of every CNN: the classification models, the segmentation models and
    the quantizable models (built with quantize=False, their default: QuantStub is then an identity)."""
    if not (have("torch") and have("torchvision")):
        return []
    models = _torchvision()
    import torchvision.models.quantization  # noqa: F401  (loads the submodules named below)
    import torchvision.models.segmentation  # noqa: F401

    found = []
    for module in (models, models.segmentation, models.quantization):
        found += [f"{module.__name__}:{models.get_model_builder(n).__name__}" for n in models.list_models(module=module)
                  if not n.startswith(TRANSFORMERS)]
    return found


def _torch_output(model, size, channels):
    """The forward's output shape (without the batch), or the leaf module torch fails in."""
    import torch

    entered = []
    hooks = [m.register_forward_pre_hook(lambda m, args, path=path: entered.append(path))
             for path, m in model.named_modules() if not list(m.children())]
    try:
        out = model(torch.empty((1, channels, *size), device="meta"))
    except RuntimeError as exc:
        return None, entered[-1] if entered else None, str(exc)
    finally:
        for hook in hooks:
            hook.remove()
    if isinstance(out, dict):
        out = out["out"]
    return tuple(out.shape[1:]), None, None


def _torch_macs(model, size, channels) -> int:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        model(torch.empty((1, channels, *size), device="meta"))
    return counter.get_total_flops() // 2


def _sources(stack: str) -> list[str]:
    """Each row's source module, from its comment."""
    rows = []
    for line in stack.splitlines():
        text, _, comment = line.partition("#")
        words = text.split()
        if words and not words[0].startswith("@") and words[0] != "from":
            rows.append(comment.strip().split(":")[0])
    return rows


def _ours(stack, size, channels):
    from convshape import calc

    result = calc(stack, size, channels)
    if not result.valid:
        return None, result.error_row.index
    out = result.output
    return ((out.features,) if out.size is None else (out.channels, *out.size)), None


@pytest.mark.parametrize("spec", _cnns())
def test_every_torchvision_cnn_is_exact_or_refused_by_name(spec):
    from convshape.counts import count
    from convshape.importers.torch_module import read_module

    _torchvision()
    name = spec.split(":")[1]
    size = (299, 299) if name == "inception_v3" else (224, 224)
    capture = read_module(spec, size)
    model, stack, channels = capture.module, capture.imported.stack, capture.channels
    assert channels == 3
    from convshape import calc

    result = calc(stack, size, channels)
    totals = count(result).totals
    numel = sum(p.numel() for p in model.parameters())
    aux = {"googlenet": ("aux1", "aux2"), "inception_v3": ("AuxLogits",)}.get(name, ())
    unused = sum(p.numel() for a in aux for p in getattr(model, a).parameters())
    assert totals.params == numel - unused
    if unused:  # the auxiliary classifiers eval's forward never calls: said, with their count
        assert any(f"{unused:,} parameters the model holds are not used by forward" in n
                   for n in capture.imported.notes)
    assert totals.macs == _torch_macs(model, size, channels)
    _print_model_is_exact_or_refused(model, size, numel, totals.macs)
    for other in (size, (97, 97), (320, 480)):
        want, fails_in, message = _torch_output(model, other, channels)
        got, error_row = _ours(stack, other, channels)
        if want is not None:
            assert got == want, other
        else:
            assert error_row is not None, f"torch fails at {other} in {fails_in}: {message}"
            assert _sources(stack)[error_row - 1] == fails_in


def _print_model_is_exact_or_refused(model, size, numel, macs):
    """print(model) of the same model: refused (a forward the repr does not show), or exact."""
    from convshape import calc
    from convshape.counts import count
    from convshape.importers import ImportFailure, read

    try:
        imported = read(str(model).encode(), "print(model)")
    except ImportFailure as exc:
        assert "does not show how forward wires" in str(exc)
        return
    result = calc(imported.stack, size, 3)
    assert result.valid
    totals = count(result).totals
    assert (totals.params, totals.macs) == (numel, macs)


def test_a_model_with_no_weights_yet_is_built_on_the_meta_device_only():
    """regnet_y_128gf holds 645 M parameters (2.6 GB as float32): the capture allocates none."""
    import torch

    from convshape.importers.torch_module import read_module

    _torchvision()
    model = read_module("torchvision.models:regnet_y_128gf").module
    assert {p.device.type for p in model.parameters()} == {"meta"}
    assert sum(p.numel() for p in model.parameters()) == 644_812_894
    assert torch.device("meta") == next(model.buffers()).device


USER_MODELS = textwrap.dedent('''
    import torch
    from torch import nn
    import torch.nn.functional as F


    class Block(nn.Module):
        """A residual block of the user's own, with a projection where the shape changes."""

        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.project = None if stride == 1 and cin == cout else nn.Conv2d(cin, cout, 1, stride, bias=False)

        def forward(self, x):
            y = F.relu(self.bn1(self.conv1(x)))
            y = self.bn2(self.conv2(y))
            return F.relu(y + (x if self.project is None else self.project(x)))


    class TinyResNet(nn.Module):
        def __init__(self, classes=10):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU())
            self.stages = nn.Sequential(Block(16, 16, 1), Block(16, 32, 2), Block(32, 64, 2))
            self.head = nn.Linear(64, classes)

        def forward(self, x):
            x = self.stages(self.stem(x))
            return self.head(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


    def double(cin, cout):
        return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                             nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


    class Fixed(nn.Module):
        """A classifier sized for 32x32 inputs only: Linear(16 * 8 * 8, 10) after a flatten."""

        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(4))
            self.fc = nn.Linear(16 * 8 * 8, 10)

        def forward(self, x):
            return self.fc(torch.flatten(self.features(x), 1))


    class UNet(nn.Module):
        def __init__(self, channels=1, classes=2, width=16):
            super().__init__()
            self.down1, self.down2, self.down3 = double(channels, width), double(width, 2 * width), double(2 * width, 4 * width)
            self.up2 = nn.ConvTranspose2d(4 * width, 2 * width, 2, stride=2)
            self.dec2 = double(4 * width, 2 * width)
            self.up1 = nn.ConvTranspose2d(2 * width, width, 2, stride=2)
            self.dec1 = double(2 * width, width)
            self.out = nn.Conv2d(width, classes, 1)

        def forward(self, x):
            d1 = self.down1(x)
            d2 = self.down2(F.max_pool2d(d1, 2))
            d3 = self.down3(F.max_pool2d(d2, 2))
            u2 = self.dec2(torch.cat([d2, self.up2(d3)], dim=1))
            u1 = self.dec1(torch.cat([d1, self.up1(u2)], dim=1))
            return self.out(u1)
''')


@pytest.fixture
def user_models(tmp_path):
    path = tmp_path / "nets.py"
    path.write_text(USER_MODELS)
    return path


@pytest.mark.parametrize("attr, channels", [("TinyResNet", 3), ("UNet", 1), ("Fixed", 3)])
def test_a_users_own_file_imports_exactly_at_several_sizes(user_models, attr, channels):
    import importlib.util

    from convshape import calc
    from convshape.counts import count
    from convshape.importers.torch_module import read_module

    size = (32, 32) if attr == "Fixed" else (64, 64)
    capture = read_module(f"{user_models}:{attr}", size)
    assert capture.channels == channels  # from the first conv
    spec = importlib.util.spec_from_file_location("nets_reference", user_models)
    nets = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(nets)
    model = getattr(nets, attr)().eval()  # real weights, on the CPU: the reference is torch's own
    assert count(calc(capture.imported.stack, size, channels)).totals.params == sum(
        p.numel() for p in model.parameters())
    assert count(calc(capture.imported.stack, size, channels)).totals.macs == _torch_macs(
        model.to("meta"), size, channels)
    failures = 0
    for other in ((64, 64), (32, 32), (32, 48), (17, 17), (36, 36), (4, 4)):
        want, fails_in, message = _torch_output(model.to("meta"), other, channels)
        got, error_row = _ours(capture.imported.stack, other, channels)
        if want is not None:
            assert got == want, other
        else:
            failures += 1
            assert error_row is not None, f"torch fails at {other} in {fails_in}: {message}"
            if attr == "Fixed":  # torch fails in fc (mat1 and mat2 shapes), calc at fc's row: in1024 is fixed
                assert (fails_in, _sources(capture.imported.stack)[error_row - 1]) == ("fc", "fc"), other
    assert failures == {"TinyResNet": 0, "UNet": 1, "Fixed": 5}[attr]


def test_the_cli_prints_the_checked_stack_and_calc_reads_it(run, user_models, tmp_path):
    done = run("import", f"{user_models}:TinyResNet", "-i", "32")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "# the model's input: calc -i 32x32 -c 3"
    assert lines[1] == f"# imported from the live module: {user_models}:TinyResNet (torch.fx, checked at 32x32)"
    assert lines[2].split("#") == ["conv k3 p1 c16 in3                  ", " stem.0: Conv2d"]
    assert "add t1                              # stages.0: add (Block.forward)" in lines
    (tmp_path / "tiny.stack").write_text(done.stdout)
    quiet = run("calc", "-i", "40", "-c", "3", "-f", str(tmp_path / "tiny.stack"), "-q")
    assert (quiet.returncode, quiet.stdout) == (0, "10\n")


def test_what_has_no_row_stops_the_import_naming_the_op_and_the_users_line(run, tmp_path):
    (tmp_path / "odd.py").write_text(textwrap.dedent('''
        import torch
        from torch import nn

        class Odd(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)

            def forward(self, x):
                x = self.conv(x)
                return torch.roll(x, 1, 2)
    '''))
    done = run("import", f"{tmp_path / 'odd.py'}:Odd")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (f"convshape: {tmp_path / 'odd.py'}:Odd: roll (odd.py:12): roll has no row in convshape, "
                           "so the shapes after it cannot be followed exactly\n")


@pytest.mark.parametrize("args, message", [
    (["nets_missing_module:Net"], "no module named 'nets_missing_module' (from the current folder or the installed"
                                  " packages)"),
    (["{nets}:Nothing"], "has no attribute 'Nothing'"),
    (["{nets}:USER"], None),
    (["{nets}:TinyResNet", "-i", "8x8x8"], "the model's first conv (Conv2d) has 2 spatial axes, the size 8x8x8 3"),
    (["{nets}:TinyResNet", "-c", "0"], "--channels 0: a tensor has at least 1 channel"),
    (["{nets}:TinyResNet", "-c", "4"], "torch fails at stem.0 (nets.py:32) on a 1×4×224×224 input"),
    (["{nets}:Fixed"], "on a 1×3×224×224 input: a and b must have same reduction dim, but got [1, 50176] X [1024,"
                       " 10]. (give -i the size the model takes)"),
    (["{nets}:UNet", "-i", "30"], "torch fails at cat (nets.py:{cat}) on a 1×1×30×30 input: Sizes of"
                                  " tensors must match"),
])
def test_wrong_input_is_a_clear_error_never_a_traceback(run, user_models, args, message):
    args = [a.replace("{nets}", str(user_models)) for a in args]
    cat = next(n for n, line in enumerate(USER_MODELS.splitlines(), 1) if "u2 = self.dec2(torch.cat" in line)
    message = message and message.replace("{cat}", str(cat))
    if args[0].endswith(":USER"):  # not a module, a class, nor a factory
        (user_models.parent / "consts.py").write_text("USER = 3\n")
        args[0] = f"{user_models.parent / 'consts.py'}:USER"
        message = "is a int, not an nn.Module, a class or a factory"
    done = run("import", *args)
    assert done.returncode in (1, 2)
    assert "Traceback" not in done.stderr
    assert message in done.stderr
    assert done.stderr.startswith("convshape: ")


def test_i_and_c_belong_to_a_live_module(run):
    done = run("import", "tests/golden/models/resnet18.txt", "-i", "224")
    assert (done.returncode, done.stderr) == (
        2, "convshape: -i and -c are for a live module (MODULE:ATTR); a model file gives its own input\n")


def test_from_torch_returns_what_calc_returns(user_models):
    import importlib.util

    from convshape import from_torch
    from convshape.importers import ImportFailure

    spec = importlib.util.spec_from_file_location("nets_api", user_models)
    nets = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(nets)
    result = from_torch(nets.UNet(), input_size=64)
    assert (result.output.channels, result.output.size, result.input_channels) == (2, (64, 64), 1)
    assert [row.layer.text for row in result.rows][:3] == ["conv k3 p1 c16 in1", "bn in16", "relu"]
    assert from_torch(f"{user_models}:TinyResNet", input_size=(40, 56)).output.features == 10
    with pytest.raises(ImportFailure, match="torch fails at cat"):
        from_torch(nets.UNet(), input_size=30)


def test_a_detection_backbone_with_fpn_imports_exactly_with_its_outputs(tmp_path, run):
    """torchvision's BackboneWithFPN: FrozenBatchNorm2d everywhere, five maps out."""
    import torch

    from convshape import calc
    from convshape.counts import count
    from convshape.importers.torch_module import read_module

    _torchvision()
    (tmp_path / "detect.py").write_text(
        "from torchvision.models.detection.backbone_utils import resnet_fpn_backbone\n\n"
        "def fpn():\n    return resnet_fpn_backbone(backbone_name='resnet18', weights=None)\n")
    capture = read_module(f"{tmp_path / 'detect.py'}:fpn", (224, 224))
    result = calc(capture.imported.stack, 224, 3)
    totals = count(result).totals
    assert totals.params == sum(p.numel() for p in capture.module.parameters())
    assert totals.macs == _torch_macs(capture.module, (224, 224), 3)
    with torch.no_grad():
        maps = capture.module(torch.empty(1, 3, 224, 224, device="meta"))
    rows = {result.rows[row - 1].out_size for row in result.output_rows}
    assert rows == {tuple(m.shape[2:]) for key, m in maps.items() if key != "3"}  # "3" is read by "pool"
    assert any("forward returns 5 tensors; calc lists as outputs the rows no other row reads, so not "
               "fpn.layer_blocks.3.0" in note for note in capture.imported.notes)
    assert any(note.startswith("FrozenBatchNorm2d (20 of them, body.bn1 first) holds its scale and shift as buffers")
               for note in capture.imported.notes)


def test_without_torch_the_live_route_says_what_to_install(run, tmp_path):
    """A torch that cannot be imported (a stand-in package first on the path) is a one-line error."""
    fake = tmp_path / "blocked" / "torch"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('No module named torch')\n")
    import os

    done = run("import", "nets:Net", env={"PYTHONPATH": str(fake.parent) + os.pathsep + os.environ.get("PYTHONPATH", "")})
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == ("convshape: nets:Net: importing a live PyTorch model needs torch: "
                           "pip install 'convshape[torch]'\n")


def test_common_forward_idioms_import_exactly(run, tmp_path):
    """x.squeeze(-1).squeeze(-1) after a global pool is a flatten; a − b is a merge with add's
    shapes; x * 2 keeps the shape. What torch counts is what calc counts."""
    (tmp_path / "idioms.py").write_text(textwrap.dedent('''
        import torch
        from torch import nn

        class Idioms(nn.Module):
            def __init__(self):
                super().__init__()
                self.a, self.b = nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(3, 8, 3, padding=1)
                self.pool, self.fc = nn.AdaptiveAvgPool2d(1), nn.Linear(8, 2)

            def forward(self, x):
                y = self.a(x) - self.b(x) * 2
                return self.fc(self.pool(y).squeeze(-1).squeeze(-1))
    '''))
    done = run("import", f"{tmp_path / 'idioms.py'}:Idioms", "-i", "16")
    assert done.returncode == 0, done.stderr
    rows = [line.split("#")[0].strip() for line in done.stdout.splitlines() if not line.startswith("#")]
    assert rows == ["@input", "conv k3 p1 c8 in3", "@t2", "from input", "conv k3 p1 c8 in3", "add t2", "gap",
                    "flatten", "linear c2 in8"]
    assert "add t2                              # forward: sub (Idioms.forward): x − y, read as add (the same" \
        " shapes)" in done.stdout
    quiet = run("calc", "-i", "40", "-c", "3", "-f", "-", "--format", "json", stdin=done.stdout)
    assert json.loads(quiet.stdout)["totals"]["params"] == 2 * (8 * 27 + 8) + 8 * 2 + 2


def test_a_squeeze_that_drops_a_real_axis_is_refused(tmp_path):
    from convshape.importers import ImportFailure
    from convshape.importers.torch_module import read_module

    (tmp_path / "bad.py").write_text(
        "import torch\nfrom torch import nn\n\nclass Bad(nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        self.c = nn.Conv2d(3, 1, 3)\n\n    def forward(self, x):\n"
        "        return self.c(x).squeeze(1)\n")
    with pytest.raises(ImportFailure, match=r"squeeze \(bad.py:10\): a squeeze of \[1, 1, 14, 14\] to \[1, 14, 14\] has"
                                             " no row"):
        read_module(f"{tmp_path / 'bad.py'}:Bad", (16, 16))


@pytest.mark.parametrize("module, name", [("nn.Linear(14, 10)", "Linear"), ("nn.LayerNorm(14)", "LayerNorm")])
def test_a_linear_or_layernorm_over_the_last_spatial_axis_says_so(tmp_path, module, name):
    """On N×C×H×W, nn.Linear and nn.LayerNorm work on W alone: no row does that, and the
    message says why (the shape check behind every import would only see the shapes differ)."""
    from convshape.importers import ImportFailure
    from convshape.importers.torch_module import read_module

    (tmp_path / "onw.py").write_text(
        "import torch\nfrom torch import nn\n\nclass OnW(nn.Module):\n    def __init__(self):\n"
        f"        super().__init__()\n        self.c, self.last = nn.Conv2d(3, 8, 3), {module}\n\n"
        "    def forward(self, x):\n        return self.last(self.c(x))\n")
    hint = ": flatten first" if name == "Linear" else ""
    with pytest.raises(ImportFailure, match=rf"^last \(onw\.py:10\): a {name} over the last spatial axis has no row{hint}$"):
        read_module(f"{tmp_path / 'onw.py'}:OnW", (16, 16))


def test_a_row_whose_shape_differs_from_torch_s_stops_the_import(tmp_path):
    """The check behind every import: here x.squeeze(-1) leaves N×C×1, which torch then
    upsamples in 1-D while the rows would upsample a 2-D map."""
    from convshape.importers import ImportFailure
    from convshape.importers.torch_module import read_module

    (tmp_path / "mix.py").write_text(
        "import torch\nfrom torch import nn\n\nclass Mixed(nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        self.c = nn.Conv2d(3, 8, 3, padding=1)\n"
        "        self.pool, self.up = nn.AdaptiveAvgPool2d(1), nn.Upsample(scale_factor=2)\n\n"
        "    def forward(self, x):\n        return self.up(self.pool(self.c(x)).squeeze(-1))\n")
    with pytest.raises(ImportFailure, match=r"^row 3 \(up s2\) gives 8×2×2 where torch's up \(mix\.py:11\) gives 8×2: "
                                             r"not imported, rather than wrong$"):
        read_module(f"{tmp_path / 'mix.py'}:Mixed", (16, 16))

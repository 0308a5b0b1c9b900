"""The whole networks in examples/ against the same networks built in torch.

Each example is run in torch as torchvision builds it (resnet18, resnet50, vgg16,
alexnet, googlenet, densenet121, mobilenet_v2, efficientnet_b0, convnext_tiny,
shufflenet_v2_x1_0, and the
FPN of resnet_fpn_backbone), or for the two U-Nets, as the paper and the common PyTorch
implementation write them (by hand below, from their own descriptions, not from
convshape). Forward hooks record, in execution order, the output shape of every module
that changes shapes (convolutions, pools, linear layers); the FPN's outputs are recorded
too. Each example is run at 224, 225, 299, 32, 17 and 480x640; where torch fails, the
modules that ran before it and torch's message are recorded.

The costs are recorded from torch too: ``sum(p.numel())`` of the parameters and of the
buffers, and what ``torch.utils.flop_counter.FlopCounterMode`` counts for one image; where
the model runs, also torchinfo's total mult-adds and its estimated total size in bytes.

Regenerate (needs torch and torchvision; see graph_golden.py for torchvision on CPU torch):
    python tests/golden/examples_golden.py        # writes tests/golden/examples_cases.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

GOLDEN = HERE / "examples_cases.json"
SIZES = ["224", "225", "299", "32", "17", "480x640"]
# The stack file, its input channels, and the kinds of rows torch runs as modules (a global
# pool written as F.adaptive_avg_pool2d has no module to hook; -last: the last row is the
# FPN's F.max_pool2d, checked through the outputs).
MODULES = "conv convt maxpool avgpool adaptive gap linear"
FUNCTIONAL_POOL = "conv convt maxpool avgpool adaptive linear"  # forward() calls F.adaptive_avg_pool2d
EXAMPLES = {
    "resnet18": ("resnet18.stack", 3, MODULES),
    "resnet50": ("resnet50.stack", 3, MODULES),
    "vgg16": ("vgg16.stack", 3, MODULES),
    "alexnet": ("alexnet.stack", 3, MODULES),
    "googlenet": ("googlenet.stack", 3, MODULES),
    "densenet121": ("densenet121.stack", 3, FUNCTIONAL_POOL),
    "mobilenetv2": ("mobilenetv2.stack", 3, FUNCTIONAL_POOL),
    "efficientnet-b0": ("efficientnet-b0.stack", 3, MODULES),
    "convnext-tiny": ("convnext-tiny.stack", 3, MODULES),
    "fpn-resnet50": ("fpn-resnet50.stack", 3, MODULES + " -last"),
    "unet": ("unet.stack", 1, MODULES),
    "unet-padded": ("unet-padded.stack", 3, MODULES),
    "shufflenet-v2": ("shufflenet-v2.stack", 3, FUNCTIONAL_POOL),  # forward() calls x.mean([2, 3])
    "vit-b-16": ("vit-b-16.stack", 3, "conv linear attn"),  # the patches, every nn.Linear and attention
    "swin-t": ("swin-t.stack", 3, MODULES + " wattn patchmerge"),
    # MaxViT's partition layers as one call each (their LayerNorms and MLPs on partitioned
    # tensors have no map shape to compare); its convs are checked through the shapes after them.
    "maxvit-t": ("maxvit-t.stack", 3, "avgpool gap linear battn gattn"),
}


def _unets():
    import torch
    from torch import nn
    import torch.nn.functional as F

    class Twice(nn.Sequential):
        def __init__(self, cin, cout, padding):
            super().__init__(nn.Conv2d(cin, cout, 3, padding=padding), nn.ReLU(),
                             nn.Conv2d(cout, cout, 3, padding=padding), nn.ReLU())

    class UNet(nn.Module):
        """Ronneberger et al. 2015 (padding 0: crop the skip, torchvision's center_crop), or
        milesial/Pytorch-UNet with bilinear=False (padding 1: pad the upsampled map)."""

        def __init__(self, cin, padding):
            super().__init__()
            self.padding = padding
            widths = [64, 128, 256, 512, 1024]
            self.down = nn.ModuleList([Twice(cin, 64, padding)] + [Twice(a, b, padding) for a, b in zip(widths, widths[1:])])
            self.pool = nn.MaxPool2d(2)
            self.ups = nn.ModuleList([nn.ConvTranspose2d(b, a, 2, stride=2) for a, b in zip(widths[::-1][1:], widths[::-1])])
            self.up_convs = nn.ModuleList([Twice(b, a, padding) for a, b in zip(widths[::-1][1:], widths[::-1])])
            self.out = nn.Conv2d(64, 2, 1)

        def forward(self, x):
            skips = []
            for index, block in enumerate(self.down):
                x = block(x)
                if index < 4:
                    skips.append(x)
                    x = self.pool(x)
            for up, conv, skip in zip(self.ups, self.up_convs, reversed(skips)):
                x = up(x)
                if self.padding == 0:
                    from torchvision.transforms.functional import center_crop

                    skip = center_crop(skip, list(x.shape[2:]))
                else:
                    dy, dx = skip.shape[2] - x.shape[2], skip.shape[3] - x.shape[3]
                    x = F.pad(x, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
                x = conv(torch.cat([skip, x], dim=1))
            return self.out(x)

    return UNet


def build(name: str):
    import torchvision.models as models

    if name == "fpn-resnet50":
        from torchvision.models.detection.backbone_utils import resnet_fpn_backbone

        from torch import nn

        # BatchNorm2d, not the default FrozenBatchNorm2d, whose affine numbers are buffers.
        return resnet_fpn_backbone(backbone_name="resnet50", weights=None, trainable_layers=5,
                                   norm_layer=nn.BatchNorm2d)
    if name in ("unet", "unet-padded"):
        return _unets()(1 if name == "unet" else 3, 0 if name == "unet" else 1)
    constructor = {"resnet18": models.resnet18, "resnet50": models.resnet50, "vgg16": models.vgg16,
                   "alexnet": models.alexnet, "densenet121": models.densenet121,
                   "mobilenetv2": models.mobilenet_v2, "efficientnet-b0": models.efficientnet_b0,
                   "convnext-tiny": models.convnext_tiny, "shufflenet-v2": models.shufflenet_v2_x1_0,
                   "vit-b-16": models.vit_b_16, "swin-t": models.swin_t, "maxvit-t": models.maxvit_t}
    if name == "googlenet":
        return models.googlenet(weights=None, aux_logits=False, init_weights=False)
    return constructor[name](weights=None)


def _kind(module, output) -> str | None:
    from torch import nn

    if isinstance(module, nn.Conv2d):
        return "conv"
    if isinstance(module, nn.ConvTranspose2d):
        return "convt"
    if isinstance(module, nn.MaxPool2d):
        return "maxpool"
    if isinstance(module, nn.AvgPool2d):
        return "avgpool"
    if isinstance(module, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        size = module.output_size
        return "gap" if size in (1, (1, 1)) else "adaptive"
    if isinstance(module, nn.MultiheadAttention):
        return "attn"
    if type(module).__name__.startswith("ShiftedWindowAttention"):  # channels last: N×H×W×C
        return "wattn"
    if type(module).__name__.startswith("PatchMerging"):
        return "patchmerge"
    if type(module).__name__ == "PartitionAttentionLayer":
        return "battn" if module.partition_type == "window" else "gattn"
    if isinstance(module, nn.Linear):  # ConvNeXt's pointwise layers are channels last (4-D): 1×1 convs
        return "linear" if output.dim() in (2, 3) else "conv"  # 3-D: a sequence of tokens (ViT)
    return None


def run(name: str, size: str) -> dict:
    import torch
    from torch import nn

    model = build(name).eval()
    calls = []

    def hook(module, inputs, output):
        kind = _kind(module, output)
        if kind is None:
            return
        if isinstance(output, tuple):  # nn.MultiheadAttention: (output, weights)
            output = output[0]
        shape = list(output.shape[1:])
        if _kind(module, output) in ("wattn", "patchmerge") or isinstance(module, nn.Linear) and output.dim() == 4:  # (N, H, W, C) -> (C, H, W)
            shape = [shape[-1], *shape[:-1]]
        calls.append([kind, shape])

    for module in model.modules():
        if _kind(module, torch.zeros(1, 1)) is not None or isinstance(module, nn.Linear):
            if isinstance(module, nn.Linear) and inside_a_row(model, module):
                continue  # part of a module that is one row (attention, patch merging), not a row of its own
            module.register_forward_hook(hook)
    sizes = [int(v) for v in size.split("x")]
    sizes = sizes * 2 if len(sizes) == 1 else sizes
    channels = EXAMPLES[name][1]
    error, outputs, flops = None, None, None
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad():
        try:
            with FlopCounterMode(display=False) as counter:
                result = model(torch.zeros(1, channels, *sizes))
            flops = counter.get_total_flops()
            if isinstance(result, dict):
                outputs = {key: list(value.shape[1:]) for key, value in result.items()}
        except (RuntimeError, ValueError, AssertionError) as exc:  # torch._assert: ViT's image size
            error = str(exc).splitlines()[0][:300]
    if error is None:
        flops = _meta_flops(name, channels, sizes)
    costs = {"params": sum(p.numel() for p in model.parameters()),
             "buffers": sum(b.numel() for b in model.buffers()),
             "flops": flops}
    if error is None:
        costs.update(_torchinfo(build(name).eval(), [1, channels, *sizes]))
    return {"example": name, "input": size, "calls": calls, "error": error, "outputs": outputs, "costs": costs}


def inside_a_row(model, module) -> bool:
    """Whether ``module`` is part of a module that is one row: nn.MultiheadAttention's
    out_proj, Swin's patch merging reduction and V2 attention's position bias MLP."""
    from torch import nn

    wholes = (nn.MultiheadAttention,)
    names = ("PatchMerging", "PatchMergingV2", "ShiftedWindowAttention", "ShiftedWindowAttentionV2",
             "PartitionAttentionLayer")
    return any((isinstance(parent, wholes) or type(parent).__name__ in names) and parent is not module and
               any(child is module for child in parent.modules()) for parent in model.modules())


def _meta_flops(name: str, channels: int, sizes: list[int]) -> int:
    """FlopCounterMode's count on the meta device, where scaled dot-product attention runs as
    its two matrix products and is counted, as on a GPU; on the CPU with grad off,
    nn.MultiheadAttention takes a fused path FlopCounterMode does not see (see the README)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    model = build(name).eval().to("meta")
    with FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, channels, *sizes, device="meta"))
    return counter.get_total_flops()


def _torchinfo(model, shape: list[int]) -> dict:
    """torchinfo's totals: mult-adds, and the three byte counts its "Estimated Total Size" adds
    up (its input size is sys.getsizeof of the tensor's storage, with Python's object header)."""
    from torchinfo import summary

    stats = summary(model, input_size=shape, verbose=0, device="cpu")
    return {"torchinfo_macs": stats.total_mult_adds, "torchinfo_input_bytes": stats.total_input,
            "torchinfo_pass_bytes": stats.total_output_bytes, "torchinfo_param_bytes": stats.total_param_bytes}


def _install_torchvision_stub_ops() -> None:
    import graph_golden

    graph_golden._install_torchvision_stub_ops()


def generate() -> list[dict]:
    _install_torchvision_stub_ops()
    return [run(name, size) for name in EXAMPLES for size in SIZES]


def main() -> None:
    cases = generate()
    import torch
    import torchinfo
    import torchvision

    payload = {"generator": "tests/golden/examples_golden.py", "torch": torch.__version__,
               "torchvision": torchvision.__version__, "torchinfo": torchinfo.__version__, "cases": cases}
    GOLDEN.write_text(json.dumps(payload, separators=(",", ":")) + "\n")
    failed = sum(1 for c in cases if c["error"])
    print(f"wrote {len(cases)} cases ({failed} where torch fails) to {GOLDEN}", file=sys.stderr)


if __name__ == "__main__":
    main()

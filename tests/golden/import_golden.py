"""Golden files for `convshape import`, made by the frameworks themselves.

For torchvision networks: the text of ``print(model)``, and each leaf module's output
shapes at 224×224 in the order forward calls it (forward hooks); and the network exported
by ``torch.onnx.export`` (the graph alone: weights are saved apart and dropped, so the
file stays small), with every node's output shape from ``onnx.shape_inference``.
For Keras Applications networks: ``model.to_json()`` and each layer's output shape.
Parameter counts come from the frameworks too: ``sum(p.numel())``, the ONNX initializers'
sizes, Keras' ``count_params()`` and trainable weights.

Regenerate (needs torch, torchvision, onnx and keras; see the README):
    KERAS_BACKEND=torch python tests/golden/import_golden.py
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from math import prod
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
MODELS = HERE / "models"
INDEX = HERE / "import_cases.json"
TORCHVISION = ["resnet18", "resnet50", "vgg16", "alexnet", "mobilenet_v2", "efficientnet_b0", "convnext_tiny",
               "googlenet", "densenet121"]
KERAS = ["VGG16", "ResNet50", "MobileNetV2", "EfficientNetB0", "Xception", "InceptionV3"]


def torch_case(name: str) -> dict:
    """print(model) of a torchvision network, and every leaf module's output shapes."""
    import torch
    import torchvision

    model = getattr(torchvision.models, name)(weights=None).eval()
    (MODELS / f"{name}.txt").write_text(str(model) + "\n")
    shapes: dict[str, list] = {}
    for path, module in model.named_modules():
        if not list(module.children()):
            module.register_forward_hook(
                lambda m, i, o, path=path: shapes.setdefault(path, []).append(list(o.shape[1:])))
    with torch.no_grad():
        output = model(torch.zeros(1, 3, 224, 224))
    return {"file": f"models/{name}.txt", "input": "224", "channels": 3, "output": list(output.shape[1:]),
            "shapes": shapes, "params": sum(p.numel() for p in model.parameters())}


def onnx_case(name: str) -> dict:
    """The network as ONNX (graph only), every node's first output shape, and the initializers' sizes."""
    import onnx
    import torch
    import torchvision

    model = getattr(torchvision.models, name)(weights=None).eval()
    with tempfile.TemporaryDirectory() as folder:
        full = Path(folder) / "model.onnx"
        torch.onnx.export(model, torch.zeros(1, 3, 224, 224), str(full), dynamo=False)
        proto = onnx.load(str(full))
    inferred = onnx.shape_inference.infer_shapes(proto)
    dims = {}
    for info in [*inferred.graph.value_info, *inferred.graph.output]:
        dims[info.name] = [d.dim_value for d in info.type.tensor_type.shape.dim]
    # The weights each node reads (torch's export shares equal tensors, through Identity nodes).
    weights = {tensor.name: list(tensor.dims) for tensor in proto.graph.initializer
               if tensor.data_type == onnx.TensorProto.FLOAT}
    for node in proto.graph.node:
        if node.op_type == "Identity" and node.input[0] in weights:
            weights[node.output[0]] = weights[node.input[0]]
    params = sum(prod(weights[name]) for node in proto.graph.node if node.op_type != "Identity"
                 for name in node.input if name in weights)
    shapes = {node.name: dims[node.output[0]][1:] for node in inferred.graph.node
              if node.output and node.output[0] in dims}
    with tempfile.TemporaryDirectory() as folder:  # the weights go to a file that is then dropped
        onnx.save(proto, str(MODELS / f"{name}.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                  location=f"{name}.weights", size_threshold=1024)
        weights = MODELS / f"{name}.weights"
        if weights.exists():
            weights.rename(Path(folder) / "weights")
    return {"file": f"models/{name}.onnx", "input": "224", "channels": 3, "shapes": shapes, "params": params}


def keras_case(name: str) -> dict:
    import keras

    model = getattr(keras.applications, name)(weights=None)
    (MODELS / f"keras_{name}.json").write_text(model.to_json() + "\n")
    shapes = {layer.name: list(layer.output.shape[1:]) for layer in model.layers}
    trainable = sum(prod(w.shape) for w in model.trainable_weights)
    size = list(model.input.shape[1:3])
    return {"file": f"models/keras_{name}.json", "input": "x".join(map(str, size)), "channels": 3,
            "shapes": shapes, "params": model.count_params(), "trainable": trainable}


def main() -> None:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    from graph_golden import _install_torchvision_stub_ops

    _install_torchvision_stub_ops()
    import keras
    import onnx
    import torch
    import torchvision

    MODELS.mkdir(exist_ok=True)
    cases = {"torch": {name: torch_case(name) for name in TORCHVISION},
             "onnx": {name: onnx_case(name) for name in TORCHVISION},
             "keras": {name: keras_case(name) for name in KERAS}}
    versions = {"torch": torch.__version__, "torchvision": torchvision.__version__, "onnx": onnx.__version__,
                "keras": keras.__version__}
    INDEX.write_text(json.dumps({"generator": "tests/golden/import_golden.py", **versions, "cases": cases},
                                separators=(",", ":")) + "\n")
    print(f"wrote {INDEX} and {len(list(MODELS.iterdir()))} files in {MODELS}", file=sys.stderr)


if __name__ == "__main__":
    main()

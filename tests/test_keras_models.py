"""Keras' applications through their JSON: built here by Keras (on its torch backend, no
weights), written with to_json(), read back. Each gives Keras' trainable parameters, its
other weights as buffers (count_params − trainable) and its output shape."""

import json

import pytest

from conftest import have

pytestmark = [pytest.mark.keras, pytest.mark.skipif(not (have("keras") and have("torch")),
                                                     reason="keras (on torch) is not installed")]

# One or more of each family; what each one needs of the reader in the comment.
APPLICATIONS = [
    "ConvNeXtTiny",  # a stem model nested in the model, Dense over channels, LayerScale
    "MobileNet",  # Reshape to (1, 1, C) after the pool, Reshape to (classes,)
    "MobileNetV3Small", "MobileNetV3Large",  # x + 3.0 and x * (1 / 6): arithmetic with a number
    "InceptionResNetV2",  # CustomScaleLayer: x + scale·y; BatchNormalization(scale=False)
    "InceptionV3",  # BatchNormalization(scale=False)
    "EfficientNetB0",  # Normalization with its own mean, variance and count
    "EfficientNetV2B0", "DenseNet121", "ResNet50V2", "Xception", "VGG16", "MobileNetV2",
    "NASNetLarge",  # Cropping2D: a negative pad
]


@pytest.mark.parametrize("name", APPLICATIONS)
def test_a_keras_application_is_exact_through_its_json(name, monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    import math

    import keras

    from convshape.cli import app
    from typer.testing import CliRunner

    model = getattr(keras.applications, name)(weights=None)
    path = tmp_path / f"{name}.json"
    path.write_text(model.to_json())
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    size = "x".join(map(str, model.input.shape[1:3])) if None not in model.input.shape[1:3] else "224"
    result = CliRunner().invoke(app, ["calc", "-f", str(path), "-i", size, "--format", "json", "--strict"])
    assert result.exit_code in (0, 1), result.output  # warnings (floor rounding) are the model's own
    payload = json.loads(result.stdout)
    assert payload["valid"]
    assert payload["totals"]["params"] == trainable
    assert payload["totals"]["buffers"] == model.count_params() - trainable
    assert [payload["output"]["features"]] == list(model.output.shape[1:])


def test_a_dilated_and_strided_keras_model_reads_with_keras_shapes(monkeypatch, tmp_path):
    """Dilation and strides come from the JSON's config: each layer's output is Keras' own."""
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    import keras

    from convshape.cli import app
    from typer.testing import CliRunner

    layers = keras.layers
    inputs = keras.Input((31, 31, 3))
    x = layers.Conv2D(8, 3, dilation_rate=2)(inputs)  # 31 - 2·2 = 27
    x = layers.Conv2D(8, 3, dilation_rate=(3, 1), padding="valid")(x)  # 27 - 6 = 21, 27 - 2 = 25
    x = layers.Conv2D(4, 3, strides=2, padding="same")(x)  # 11, 13
    model = keras.Model(inputs, x)
    path = tmp_path / "dilated.json"
    path.write_text(model.to_json())
    result = CliRunner().invoke(app, ["calc", "-f", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["layers"]
    keras_shapes = [list(layer.output.shape[1:]) for layer in model.layers[1:]]
    assert [[*row["out_size"], row["out_channels"]] for row in rows] == keras_shapes


def test_a_keras_json_that_leaves_use_bias_out_gets_keras_default(monkeypatch, tmp_path):
    """A config without "use_bias" (a hand-trimmed file) builds its bias in Keras: the
    parameters are those of the model Keras rebuilds from that very JSON."""
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    import keras

    from convshape.cli import app
    from typer.testing import CliRunner

    layers = keras.layers
    inputs = keras.Input((12, 12, 3))
    x = layers.Conv2D(8, 3, use_bias=False)(inputs)
    x = layers.Conv2DTranspose(4, 3, strides=2, use_bias=False)(x)
    x = layers.DepthwiseConv2D(3, use_bias=False)(x)
    x = layers.Reshape((-1, 4))(x)
    x = layers.MultiHeadAttention(num_heads=2, key_dim=2, use_bias=False)(x, x)
    saved = json.loads(keras.Model(inputs, x).to_json())
    for layer in saved["config"]["layers"]:
        layer["config"].pop("use_bias", None)
    path = tmp_path / "trimmed.json"
    path.write_text(json.dumps(saved))
    rebuilt = keras.models.model_from_json(path.read_text())
    result = CliRunner().invoke(app, ["calc", "-f", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["totals"]["params"] == rebuilt.count_params()


def test_a_keras_relu_capped_at_6_is_relu6_and_any_other_relu_is_relu(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    import keras

    from convshape.cli import app
    from typer.testing import CliRunner

    layers = keras.layers
    inputs = keras.Input((8, 8, 3))
    x = layers.ReLU(max_value=6.0)(layers.Conv2D(4, 3)(inputs))
    x = layers.ReLU(max_value=7.0)(x)
    x = layers.ReLU()(x)
    path = tmp_path / "relus.json"
    path.write_text(keras.Model(inputs, x).to_json())
    result = CliRunner().invoke(app, ["import", str(path)])
    assert result.exit_code == 0, result.output
    rows = [line.split("#")[0].strip() for line in result.stdout.splitlines() if not line.startswith("#")]
    assert rows[1:] == ["relu6", "relu", "relu"]

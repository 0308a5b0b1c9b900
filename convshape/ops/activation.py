"""Activations and dropout: elementwise, the shape kept, no parameters. Each is a word and
its torch and Keras code."""

from __future__ import annotations

from .base import Op


class Activation(Op):
    def __init__(self, word: str, help: str, torch: str, keras: str):
        self.word, self.help, self.torch, self.keras = word, help, torch, keras

    def torch_module(self, row, w):
        return self.torch

    def keras_layers(self, row, w):
        return [self.keras]


OPS = (
    Activation("relu", "ReLU activation", "nn.ReLU()", "layers.Activation('relu')"),
    Activation("relu6", "ReLU6 activation, MobileNet's", "nn.ReLU6()", "layers.Activation('relu6')"),
    Activation("gelu", "GELU activation", "nn.GELU()", "layers.Activation('gelu')"),
    Activation("silu", "SiLU activation, also called swish", "nn.SiLU()", "layers.Activation('silu')"),
    Activation("sigmoid", "sigmoid activation", "nn.Sigmoid()", "layers.Activation('sigmoid')"),
    Activation("tanh", "tanh activation", "nn.Tanh()", "layers.Activation('tanh')"),
    Activation("hardswish", "hard swish activation", "nn.Hardswish()", "layers.Activation('hard_swish')"),
    Activation("lrelu", "leaky ReLU activation", "nn.LeakyReLU()",
               "layers.LeakyReLU(negative_slope=0.01)"),  # torch's slope
    Activation("dropout", "dropout, the identity at inference", "nn.Dropout()", "layers.Dropout(0.5)"),
)

"""A small network written in plain PyTorch, to try `mbcalc import` on:

    mbcalc import docs/examples/tiny_net.py:TinyNet --input 3x96x96

A stem conv, a depthwise-separable conv, two inverted residuals (the second with
squeeze-and-excite written with `x.mean((2, 3))`), a global pool and a classifier.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def conv_bn(c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1) -> nn.Sequential:
    """A conv, its batch norm and ReLU6."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU6(inplace=True),
    )


class SqueezeExcite(nn.Module):
    def __init__(self, channels: int, squeezed: int) -> None:
        super().__init__()
        self.reduce = nn.Linear(channels, squeezed)
        self.expand = nn.Linear(squeezed, channels)

    def forward(self, x: Tensor) -> Tensor:
        gate = torch.sigmoid(self.expand(torch.relu(self.reduce(x.mean((2, 3))))))
        return x * gate[:, :, None, None]


class InvertedResidual(nn.Module):
    def __init__(self, c_in: int, c_out: int, expand: int, stride: int, se: bool) -> None:
        super().__init__()
        hidden = c_in * expand
        layers: list[nn.Module] = [
            conv_bn(c_in, hidden, 1),
            conv_bn(hidden, hidden, 3, stride, hidden),
        ]
        if se:
            layers.append(SqueezeExcite(hidden, hidden // 4))
        layers += [nn.Conv2d(hidden, c_out, 1, bias=False), nn.BatchNorm2d(c_out)]
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.block(x)
        return x + out if self.residual else out


class TinyNet(nn.Module):
    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.stem = conv_bn(3, 16, 3, 2)
        self.separable = nn.Sequential(conv_bn(16, 16, 3, 1, 16), conv_bn(16, 32, 1))
        self.block1 = InvertedResidual(32, 32, 4, 1, se=False)
        self.block2 = InvertedResidual(32, 48, 4, 2, se=True)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(48, classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.block2(self.block1(self.separable(self.stem(x))))
        out: Tensor = self.classifier(self.pool(x).flatten(1))
        return out

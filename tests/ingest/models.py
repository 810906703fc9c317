"""Small PyTorch networks written by hand, as users write theirs: the models the import tests read.

Each is a plain `nn.Module` with its layers as attributes, so that a test derives what it
expects from the module's own layers (kernel sizes, strides, channel counts). Every class
builds with no arguments, as `mbcalc import file.py:Class` calls it.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional


def conv_bn(c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1) -> nn.Sequential:
    """Conv2d (no bias, padding kernel // 2), BatchNorm2d, ReLU."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class BasicBlock(nn.Module):
    """ResNet's basic block: two 3x3 convs; a 1x1 downsample on the shortcut if the size changes."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample: nn.Module | None = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x: Tensor) -> Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        result: Tensor = self.relu(out + shortcut)
        return result


class SmallResNet(nn.Module):
    """Stem conv-bn-relu, a max pool, two basic blocks (the second downsampling), pool, fc."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = nn.Sequential(BasicBlock(16, 16, 1), BasicBlock(16, 32, 2))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(32, 10)

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.avgpool(self.layer1(x))
        result: Tensor = self.fc(torch.flatten(x, 1))
        return result


class SqueezeExcite(nn.Module):
    """Squeeze-and-excite written with `x.mean((2, 3))` and two `nn.Linear`s."""

    def __init__(self, channels: int, squeezed: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(channels, squeezed)
        self.fc2 = nn.Linear(squeezed, channels)

    def forward(self, x: Tensor) -> Tensor:
        weights = torch.sigmoid(self.fc2(functional.relu(self.fc1(x.mean((2, 3))))))
        return x * weights[:, :, None, None]


class SENet(nn.Module):
    """A conv, squeeze-and-excite on its output, a global pool and a classifier."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = conv_bn(3, 24, 3, 2)
        self.se = SqueezeExcite(24, 6)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(24, 5)

    def forward(self, x: Tensor) -> Tensor:
        result: Tensor = self.fc(self.pool(self.se(self.stem(x))).flatten(1))
        return result


class InceptionLike(nn.Module):
    """Four branches concatenated: 1x1, 1x1 then 3x3, 1x1 then 5x5, 3x3 max pool then 1x1."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = conv_bn(3, 16, 3, 2)
        self.branch1 = conv_bn(16, 8, 1)
        self.branch3 = nn.Sequential(conv_bn(16, 8, 1), conv_bn(8, 12, 3))
        self.branch5 = nn.Sequential(conv_bn(16, 4, 1), conv_bn(4, 6, 5))
        self.branch_pool = nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=True), conv_bn(16, 6, 1))

    def forward(self, x: Tensor) -> Tensor:
        x = self.stem(x)
        branches = (self.branch1, self.branch3, self.branch5, self.branch_pool)
        return torch.cat([branch(x) for branch in branches], 1)


class Upsampling(nn.Module):
    """A conv, then `nn.Upsample` (an op mbcalc has no layer for), then a conv."""

    def __init__(self) -> None:
        super().__init__()
        self.down = conv_bn(3, 8, 3, 2)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.head = nn.Conv2d(8, 2, 1)

    def forward(self, x: Tensor) -> Tensor:
        result: Tensor = self.head(self.up(self.down(x)))
        return result


class InvertedResidual(nn.Module):
    """MobileNetV2's block: 1x1 expand, 3x3 depthwise, 1x1 project (ReLU6), residual if it can."""

    def __init__(self, c_in: int, c_out: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = c_in * expand
        self.use_residual = stride == 1 and c_in == c_out
        self.conv = nn.Sequential(
            nn.Conv2d(c_in, hidden, 1, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(inplace=True),
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(inplace=True),
            nn.Conv2d(hidden, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out),
        )

    def forward(self, x: Tensor) -> Tensor:
        result: Tensor = x + self.conv(x) if self.use_residual else self.conv(x)
        return result


class MobileNetV2Like(nn.Module):
    """A stem, two inverted residuals (the second with its residual add), a 1x1 head."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU6()),
            InvertedResidual(16, 24, 2, 6),
            InvertedResidual(24, 24, 1, 6),
        )
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(24, 10))

    def forward(self, x: Tensor) -> Tensor:
        x = functional.adaptive_avg_pool2d(self.features(x), 1)
        result: Tensor = self.classifier(torch.flatten(x, 1))
        return result


class SeparableChain(nn.Module):
    """MobileNet v1's depthwise-separable layers: 3x3 depthwise then 1x1 pointwise, each with BN."""

    def __init__(self) -> None:
        super().__init__()
        widths = (8, 16, 32, 32)
        strides = (1, 2, 1)
        layers: list[nn.Module] = [conv_bn(3, widths[0], 3, 2)]
        for c_in, c_out, stride in zip(widths[:-1], widths[1:], strides, strict=True):
            layers += [conv_bn(c_in, c_in, 3, stride, groups=c_in), conv_bn(c_in, c_out, 1)]
        self.model = nn.Sequential(*layers)
        self.fc = nn.Linear(32, 10)

    def forward(self, x: Tensor) -> Tensor:
        x = self.model(x)
        result: Tensor = self.fc(x.view(x.size(0), -1) if x.shape[2] == 1 else x.mean((2, 3)))
        return result


class ActivationsNet(nn.Module):
    """SiLU, Hardswish and x * sigmoid(x) written out, each after a conv."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 2, 1)
        self.silu = nn.SiLU()
        self.conv2 = nn.Conv2d(8, 8, 3, 1, 1, groups=8)
        self.hswish = nn.Hardswish()
        self.conv3 = nn.Conv2d(8, 16, 1)

    def forward(self, x: Tensor) -> Tensor:
        x = self.hswish(self.conv2(self.silu(self.conv1(x))))
        x = self.conv3(x)
        return x * torch.sigmoid(x)


class DataDependent(nn.Module):
    """Control flow on the values of the input: torch.export cannot trace it."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)

    def forward(self, x: Tensor) -> Tensor:
        result: Tensor = self.conv(x)
        return result if x.sum() > 0 else result * 2


class TwoOutputs(nn.Module):
    """A network giving two tensors."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        y = self.conv(x)
        return y, functional.relu(y)


class Nets:
    """Factories reachable by a dotted name (`models:Nets.small`)."""

    @staticmethod
    def small() -> nn.Module:
        return SeparableChain()


class DenseLayer(nn.Module):
    """torchvision's dense layer: the concatenation of every earlier feature map, then BN-ReLU-
    1x1 conv to 4 x growth, BN-ReLU-3x3 conv to growth."""

    def __init__(self, c_in: int, growth: int) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(c_in)
        self.conv1 = nn.Conv2d(c_in, 4 * growth, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(4 * growth)
        self.conv2 = nn.Conv2d(4 * growth, growth, 3, padding=1, bias=False)

    def forward(self, features: list[Tensor]) -> Tensor:
        x = torch.cat(features, 1)
        x = self.conv1(functional.relu(self.norm1(x)))
        result: Tensor = self.conv2(functional.relu(self.norm2(x)))
        return result


class DenseNetLike(nn.Module):
    """A stem and one dense block of three layers as torchvision writes DenseNet: each layer
    reads `torch.cat` of all the feature maps before it; a transition to the classifier."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = conv_bn(3, 16, 3, 2)
        self.layers = nn.ModuleList(DenseLayer(16 + 8 * i, 8) for i in range(3))
        self.norm = nn.BatchNorm2d(16 + 8 * 3)
        self.fc = nn.Linear(16 + 8 * 3, 5)

    def forward(self, x: Tensor) -> Tensor:
        features = [self.stem(x)]
        for layer in self.layers:
            features.append(layer(features))
        x = functional.relu(self.norm(torch.cat(features, 1)))
        result: Tensor = self.fc(functional.adaptive_avg_pool2d(x, 1).flatten(1))
        return result


class TinyViT(nn.Module):
    """A 4x4 patch embedding, one self-attention layer as ViTs write it (q, k and v from one
    linear, softmax(q k^T / sqrt(d)) v with `@`), a mean readout and a classifier."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Conv2d(3, 8, 4, stride=4)
        self.qkv = nn.Linear(8, 24)
        self.proj = nn.Linear(8, 8)
        self.head = nn.Linear(8, 5)

    def forward(self, x: Tensor) -> Tensor:
        tokens = self.embed(x).flatten(2).transpose(1, 2)
        q, k, v = self.qkv(tokens).chunk(3, dim=-1)
        weights = (q @ k.transpose(1, 2) / 8**0.5).softmax(dim=-1)
        mixed = self.proj(weights @ v)
        result: Tensor = self.head((tokens + mixed).mean(1))
        return result

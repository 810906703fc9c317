"""A small network with every norm kind and a layer scale, for the PyTorch and real-tool tests."""

EVERY_NORM = """
input: {size: 9, channels: 3}
batchnorm: false
layers:
  - conv: {out: 16, kernel: 3, stride: 2, act: none}
  - norm: {act: relu}
  - norm: {kind: layer, act: gelu}
  - norm: {kind: group, groups: 4}
  - block:
      residual: true
      layers: [{depthwise: {kernel: 7, bias: true, act: none}}, {layer_scale: {}}]
  - pool: {global: true}
  - norm: {kind: layer}
  - fc: {out: 10}
"""
"""A batch norm with an activation, a layer norm, a group norm, a layer scale inside a residual
block after a depthwise 7x7 with bias (ConvNeXt's), and a layer norm after a global pool."""

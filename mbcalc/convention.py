"""The counting convention in one sentence, shown under every report."""

CONVENTION = (
    "mult-adds = multiply-accumulates of conv, depthwise and fc layers (1 MAC = 1, as in the "
    "MobileNets paper); bias, batch norm, activations, pooling and merges cost none; params are "
    "weights and biases, with batch norm's scale and shift counted apart as BN params"
)

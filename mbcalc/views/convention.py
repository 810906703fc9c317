"""The counting convention in one sentence, shown under every report."""

CONVENTION = (
    "convention: 1 multiply-accumulate = 1 mult-add (the MobileNets paper's); bias, batch norm, "
    "activations, pooling and merges are free; params = weights + biases, BN scale/shift apart"
)

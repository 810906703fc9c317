"""The counting convention in one sentence, shown under every report."""

CONVENTION = (
    "convention: 1 multiply-accumulate = 1 mult-add (the MobileNets paper's); bias, batch norm, "
    "activations, pooling and merges are free; params = weights + biases, BN scale/shift apart"
)

ACTIVATIONS_MEANING = "output elements of convs, fcs and attention's products, per image"
"""What the activations count is (Dollár et al.'s measure; timm's `infer_macts`)."""


def markdown_convention() -> str:
    """The convention as the closing line of a Markdown report: a sentence in italics."""
    return f"_{CONVENTION[0].upper()}{CONVENTION[1:]}._"

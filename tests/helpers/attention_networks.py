"""Every random strategy of networks with attention, by what they draw: the property tests
that hold for all of them (the sweep grid equals the one-setting engine; `verify` passes)
run over each."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import strategies as st

from mbcalc import Spec
from tests.helpers.patch_networks import patch_networks
from tests.helpers.strategies import (
    multi_query_networks,
    partitioned_networks,
    swin_networks,
    token_networks,
)

ATTENTION_NETWORKS: dict[str, tuple[Callable[[], st.SearchStrategy[Spec]], int]] = {
    "tokens": (token_networks, 24),
    "windows-grids-patches": (partitioned_networks, 24),
    "multi-query": (multi_query_networks, 24),
    "resized-patch-blocks": (patch_networks, 24),
    "swin": (swin_networks, 40),
}
"""Each strategy, with the largest input side drawn for it."""

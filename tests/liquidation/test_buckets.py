"""Bucket arithmetic at the edges: a price lands in the bucket its decimal digits name."""

from __future__ import annotations

import numpy as np
import pytest

from reportgen.liquidation.buckets import bucket_index
from reportgen.liquidation.hyperliquid import aggregate, arrays_from_states

# (price as the venue wrote it, bucket size, bucket): on an edge, a hair below, a hair above
EDGES = [
    ("95000", 100.0, 950), ("94999.99999999999", 100.0, 949), ("95000.00000000001", 100.0, 950),
    ("95000", 500.0, 190), ("94999.99999999999", 500.0, 189),
    ("100000", 1000.0, 100), ("99999.99999999999", 1000.0, 99),
    ("0.3", 0.1, 3), ("0.29999999999999993", 0.1, 2), ("0.30000000000000004", 0.1, 3),
    ("2505", 5.0, 501), ("2504.9999999999995", 5.0, 500),
    ("0.0975", 0.0001, 975), ("0.09749999999999999", 0.0001, 974),
]


@pytest.mark.parametrize(("price", "size", "bucket"), EDGES)
def test_edge_positions(price: str, size: float, bucket: int) -> None:
    assert bucket_index(float(price), size) == bucket
    assert bucket_index(np.array([float(price)]), size).tolist() == [bucket]


def test_fourteen_edges_at_once_and_away_from_edges() -> None:
    assert len(EDGES) == 14
    for size in (100.0, 500.0, 0.1, 5.0, 0.0001):
        prices = np.array([float(p) for p, s, _ in EDGES if s == size])
        wanted = [b for _p, s, b in EDGES if s == size]
        assert bucket_index(prices, size).tolist() == wanted
    mid = np.array([94_950.0, 108_612.3, 0.35])
    assert bucket_index(mid, 100.0).tolist() == [949, 1086, 0]


def test_a_position_a_hair_below_an_edge_is_mapped_below_it() -> None:
    state = {"assetPositions": [{"type": "oneWay", "position": {
        "coin": "BTC", "szi": "1.0", "positionValue": "100000.0",
        "liquidationPx": "94999.99999999999", "entryPx": "100000.0",
        "leverage": {"type": "isolated", "value": 20}}}]}
    m = aggregate(arrays_from_states([state], "BTC"), "BTC", 100_000.0, 100.0)
    row = int(np.flatnonzero(m.long_usd)[0])
    assert (m.k0 + row) * m.bucket_size == 94_900.0

"""A run is cut into windows of 1, 2, 4, ... photos, then full batches: the Ray runner forms the same ones,
and the windows change no score."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from photocritic.scoring import Scorer, window_of, window_sizes


@pytest.mark.parametrize("batch_size", [1, 2, 5, 12, 16, 64])
def test_window_of_names_the_window_each_position_falls_in(batch_size):
    sizes = list(itertools.islice(window_sizes(batch_size), 40))
    assert sizes[0] == 1 and max(sizes) == batch_size and sizes[-1] == batch_size
    assert all(a <= b for a, b in zip(sizes, sizes[1:]))  # they only grow
    expected = [index for index, size in enumerate(sizes) for _ in range(size)]
    assert [window_of(position, batch_size) for position in range(len(expected))] == expected


def test_windows_change_no_score(shared_data):
    photos = sorted(str(p) for p in (shared_data / "photos").glob("*.jpg"))[:20]
    runs = {}
    for batch_size in (1, 16):  # 20 single-photo batches against windows of 1, 2, 4, 8, 5
        scorer = Scorer("default", use_catalog=False, batch_size=batch_size, threads=1)
        try:
            runs[batch_size] = {record["path"]: (record, row) for record, row in scorer.iter_scored(photos)}
        finally:
            scorer.close()
    assert list(runs[1]) == list(runs[16]) and len(runs[1]) == len(photos)
    for path, (record, row) in runs[16].items():
        alone, alone_row = runs[1][path]
        assert record["error"] is None
        assert abs(record["score"] - alone["score"]) < 1e-3, path
        np.testing.assert_allclose(np.asarray(row.features, np.float32), np.asarray(alone_row.features, np.float32), atol=2e-3)

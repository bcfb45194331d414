"""A graph as a function of a batch: the shape every caller (scoring, web, Ray, culling) uses."""
from __future__ import annotations

import os

import numpy as np

from photocritic.engine.sessions import open_session


class Network:
    """``network(batch)`` -> the graph's first output for an N x ... float32 batch (N may be anything)."""

    def __init__(self, path: str | os.PathLike, threads: int | None = None) -> None:
        self.session = open_session(path, threads)
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        return self.session.run(None, {self.input_name: batch})[0]

"""The one place a network runs at scoring time: ONNX Runtime sessions, no torch.

Scoring, culling, the web app and the Ray runner run every network (the backbone, ``nima-ava``, the
face models) through :func:`open_session`. The graphs are exported from the PyTorch definitions in
:mod:`photocritic.models` (or converted from the vendors' files) by ``scripts/`` and shipped in
``photocritic/zoo/graphs/``; torch is needed only to train and to export.
"""
from photocritic.engine.networks import Network
from photocritic.engine.sessions import GRAPHS_DIR, EngineError, graph_path, open_session, providers

__all__ = ["GRAPHS_DIR", "EngineError", "Network", "graph_path", "open_session", "providers"]

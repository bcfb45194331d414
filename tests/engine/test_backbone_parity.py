"""The shipped backbone graph (ONNX Runtime) computes the PyTorch module's features, and scores through
the engine equal scores through PyTorch, on real photos."""
from __future__ import annotations

import numpy as np
import pytest

from photocritic.imaging import decode_for_model
from photocritic.library.scan import find_photos
from photocritic.models.backbone import BACKBONES, model_input
from photocritic.models.technical import measures_vector, technical_measures
from photocritic.models.zoo import load_model
from photocritic.scoring import Scorer, backbone_network

torch = pytest.importorskip("torch")
pytest.importorskip("efficientnet_lite_pytorch")


@pytest.fixture(scope="module")
def photos(shared_data):
    files = sorted(find_photos([shared_data / "photos"]))[::9][:16]  # a spread of cameras, sizes, exposures
    decoded = [decode_for_model(f) for f in files]
    return files, decoded


def test_engine_features_equal_pytorch_features(photos):
    from photocritic.models.networks import extract_features, load_backbone

    _, decoded = photos
    batch = np.stack([model_input(d.pixels, 224) for d in decoded])
    engine = backbone_network("efficientnet-lite0", threads=2)(batch)
    reference = extract_features(load_backbone("efficientnet-lite0"), batch)
    assert engine.shape == reference.shape == (len(decoded), BACKBONES["efficientnet-lite0"].feature_dim)
    scale = np.abs(reference).max()
    assert np.abs(engine - reference).max() <= 1e-5 * max(1.0, scale), "engine features drift from PyTorch's"
    # batch size must not change a photo's features (the graph's batch axis is dynamic)
    single = backbone_network("efficientnet-lite0", threads=2)(batch[:1])
    assert np.abs(single[0] - engine[0]).max() <= 1e-5 * max(1.0, scale)


def test_scores_through_the_engine_equal_the_pytorch_path(photos):
    from photocritic.models.networks import extract_features, load_backbone

    files, decoded = photos
    scorer = Scorer("default", use_catalog=False, threads=2)
    engine_scores = np.array([r["score"] for r in scorer.iter_records(files)])
    model = load_model("default")
    batch = np.stack([model_input(d.pixels, 224) for d in decoded])
    # the catalog (and so every record) keeps float16 features; the reference does the same
    features = extract_features(load_backbone("efficientnet-lite0"), batch).astype(np.float16).astype(np.float32)
    technical = np.stack([measures_vector(technical_measures(d.pixels)) for d in decoded])
    reference = model.predict_distribution(features, technical) @ np.arange(1, 11)
    assert np.abs(engine_scores - reference).max() < 0.01

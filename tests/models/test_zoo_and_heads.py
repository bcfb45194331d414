"""Model bundles load by name or path, refuse what is not a bundle, and the EMD loss behaves like a distance."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from photocritic.models.heads import (
    DistributionHead,
    distribution_mean,
    distribution_std,
    emd_loss,
    gaussian_distribution,
)
from photocritic.models.technical import TECHNICAL_MEASURES
from photocritic.models.zoo import ModelError, available_models, load_model, save_bundle


def test_default_model_is_built_in_and_loads_offline():
    assert "default" in available_models()
    model = load_model("default")
    assert model.name == "default" and model.fingerprint.startswith("default-")
    technical = np.zeros((3, len(TECHNICAL_MEASURES)), dtype=np.float32)
    features = np.zeros((3, 2048), dtype=np.float32)
    distribution = model.predict_distribution(features, technical)
    assert distribution.shape == (3, 10)
    assert np.allclose(distribution.sum(axis=1), 1)


def test_bundle_roundtrip_and_fingerprint_changes_with_weights(tmp_path):
    config = {"name": "tiny", "backbone": "efficientnet-lite0", "inputs": ["technical"], "head": {"hidden": [8]}}
    torch.manual_seed(0)
    head = DistributionHead(len(TECHNICAL_MEASURES), hidden=(8,))
    save_bundle(tmp_path / "tiny", config, head, "# tiny\n")
    loaded = load_model(tmp_path / "tiny")
    x = np.random.default_rng(0).normal(size=(5, len(TECHNICAL_MEASURES))).astype(np.float32)
    expected = torch.softmax(head(torch.from_numpy(x)).double(), dim=-1).detach().numpy()
    assert np.allclose(loaded.predict_distribution(None, x), expected, atol=1e-6)
    assert loaded.card == "# tiny\n"
    first = loaded.fingerprint
    with torch.no_grad():
        head.mlp[0].weight.add_(1.0)
    save_bundle(tmp_path / "tiny", config, head, "# tiny\n")
    assert load_model(tmp_path / "tiny").fingerprint != first


def test_a_run_folder_loads_its_model_subfolder(tmp_path):
    config = {"name": "run", "inputs": ["technical"], "head": {}}
    save_bundle(tmp_path / "run" / "model", config, DistributionHead(len(TECHNICAL_MEASURES)), "")
    assert load_model(tmp_path / "run").name == "run"


def test_what_is_not_a_bundle_is_refused(tmp_path):
    with pytest.raises(ModelError, match="no model named"):
        load_model("surely-not-a-model")
    (tmp_path / "config.json").write_text(json.dumps({"inputs": ["technical"]}))
    with pytest.raises(ModelError, match="not a photocritic model bundle"):
        load_model(tmp_path)
    config = {"name": "x", "inputs": ["technical"], "head": {}}
    save_bundle(tmp_path / "x", config, DistributionHead(len(TECHNICAL_MEASURES)), "")
    (tmp_path / "x" / "weights.safetensors").write_bytes(b"\x80\x04pickle-ish garbage")
    with pytest.raises(ModelError, match="cannot load weights"):
        load_model(tmp_path / "x")


def test_emd_is_zero_for_equal_and_grows_with_distance():
    target = torch.from_numpy(gaussian_distribution(np.array([5.0]))).float()
    near = torch.from_numpy(gaussian_distribution(np.array([5.5]))).float()
    far = torch.from_numpy(gaussian_distribution(np.array([8.0]))).float()
    assert emd_loss(target, target, from_logits=False).item() < 1e-6
    assert 0 < emd_loss(near, target, from_logits=False).item() < emd_loss(far, target, from_logits=False).item()


def test_distribution_moments():
    one_hot = np.zeros((1, 10))
    one_hot[0, 6] = 1.0
    assert distribution_mean(one_hot)[0] == 7.0 and distribution_std(one_hot)[0] == 0.0
    uniform = np.full((1, 10), 0.1)
    assert abs(distribution_mean(uniform)[0] - 5.5) < 1e-12
    assert abs(distribution_std(uniform)[0] - np.std(np.arange(1, 11))) < 1e-12
    g = gaussian_distribution(np.array([5.5, 7.5]))
    assert np.allclose(g.sum(axis=1), 1) and abs(distribution_mean(g)[0] - 5.5) < 1e-9
    assert 7.0 < distribution_mean(g)[1] < 7.5  # the 1..10 scale truncates the tail: means shrink inwards


def test_hinge_terms_give_a_piecewise_linear_response_and_survive_a_bundle(tmp_path):
    """max(0, x - knot) terms let one input be best in the middle (exposure); a bundle keeps the knots."""
    in_dim = 4 + len(TECHNICAL_MEASURES)
    head = DistributionHead(in_dim, hinges=2)
    head.set_hinges(np.array([in_dim - 1, in_dim - 1]), np.array([0.0, 1.0]))
    x = torch.zeros(3, in_dim)
    x[:, -1] = torch.tensor([-1.0, 0.5, 2.0])
    expanded = head.expand(x)
    assert expanded.shape == (3, in_dim + 2)
    assert torch.equal(expanded[:, -2:], torch.tensor([[0.0, 0.0], [0.5, 0.0], [2.0, 1.0]]))
    # score = x - 2 max(0, x): rises up to 0, falls after (a V upside down)
    linear = head.mlp[-1]
    with torch.no_grad():
        linear.weight.zero_()
        linear.bias.zero_()
        linear.weight[9, in_dim - 1] = 1.0
        linear.weight[9, in_dim] = -2.0
    logits = head(x)[:, 9]
    assert torch.allclose(logits, torch.tensor([-1.0, -0.5, -2.0]))
    config = {"name": "hinged", "inputs": ["technical"], "head": {"hinges": 2}}
    small = DistributionHead(len(TECHNICAL_MEASURES), hinges=2)
    small.set_hinges(np.array([2, 2]), np.array([-0.5, 0.5]))
    small.set_standardisation(np.random.default_rng(0).normal(size=(50, len(TECHNICAL_MEASURES))).astype(np.float32))
    model = load_model(save_bundle(tmp_path / "hinged", config, small, "card"))
    assert np.array_equal(model.head.hinge_knot, small.hinge_knot.numpy()) and np.array_equal(model.head.hinge_index, small.hinge_index.numpy())
    t = np.random.default_rng(1).normal(size=(5, len(TECHNICAL_MEASURES))).astype(np.float32)
    with torch.no_grad():
        expected = torch.softmax(small(torch.from_numpy(t)).double(), dim=-1).numpy()
    assert np.allclose(model.predict_distribution(None, t), expected)


def test_a_bundle_trained_on_fewer_measures_reads_its_own_columns(tmp_path):
    """Bundles name the measures they were trained on; one from a version that computed fewer keeps
    scoring from those columns only, and one naming a measure this version lacks is refused."""
    older = [m for m in TECHNICAL_MEASURES if m != "channels_clipped"]
    torch.manual_seed(0)
    head = DistributionHead(len(older), hidden=(4,))
    save_bundle(tmp_path / "old", {"name": "old", "inputs": ["technical"], "head": {"hidden": [4]}}, head, "")
    config_file = tmp_path / "old" / "config.json"
    config = json.loads(config_file.read_text())
    config["technical_measures"] = older
    config_file.write_text(json.dumps(config))
    x = np.random.default_rng(1).normal(size=(4, len(TECHNICAL_MEASURES))).astype(np.float32)
    own_columns = x[:, [TECHNICAL_MEASURES.index(m) for m in older]]
    expected = torch.softmax(head(torch.from_numpy(own_columns)).double(), dim=-1).detach().numpy()
    assert np.allclose(load_model(tmp_path / "old").predict_distribution(None, x), expected, atol=1e-6)
    config["technical_measures"] = older + ["horizon_angle"]
    config_file.write_text(json.dumps(config))
    with pytest.raises(ModelError, match="horizon_angle"):
        load_model(tmp_path / "old")

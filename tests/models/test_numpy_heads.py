"""Scoring runs the heads in NumPy over the bundle's safetensors: the forward pass must be the PyTorch
module's, for every head shape a bundle can describe, and a weights file that does not fit is refused."""
from __future__ import annotations

import numpy as np
import pytest

from photocritic.models.technical import TECHNICAL_MEASURES
from photocritic.models.zoo import ModelError, load_model, save_bundle

torch = pytest.importorskip("torch")

from photocritic.models.torch_heads import DistributionHead  # noqa: E402

N = len(TECHNICAL_MEASURES)
SHAPES = [
    {},
    {"hidden": [16]},
    {"hidden": [16, 8], "dropout": 0.3},
    {"hidden": [12], "batch_norm": True, "dropout": 0.2},
    {"dropout": 0.5},
    {"hinges": 3, "hidden": [6], "batch_norm": True},
]


@pytest.mark.parametrize("spec", SHAPES, ids=lambda s: "-".join(f"{k}{v}" for k, v in s.items()) or "linear")
def test_numpy_head_equals_the_torch_head(tmp_path, spec):
    rng = np.random.default_rng(len(str(spec)))
    torch.manual_seed(1)
    head = DistributionHead(N, hidden=tuple(spec.get("hidden", ())), dropout=spec.get("dropout", 0.0),
                            batch_norm=spec.get("batch_norm", False), hinges=spec.get("hinges", 0))
    if spec.get("hinges"):
        head.set_hinges(rng.integers(0, N, spec["hinges"]), rng.normal(size=spec["hinges"]))
    train = rng.normal(2.0, 3.0, size=(200, N)).astype(np.float32)
    head.set_standardisation(train)
    with torch.no_grad():  # batch norm statistics far from 0/1, so a wrong epsilon or order would show
        for module in head.mlp:
            if isinstance(module, torch.nn.BatchNorm1d):
                module.running_mean.copy_(torch.from_numpy(rng.normal(0, 2, module.num_features).astype(np.float32)))
                module.running_var.copy_(torch.from_numpy(rng.uniform(0.01, 4, module.num_features).astype(np.float32)))
                module.weight.copy_(torch.from_numpy(rng.normal(1, 0.5, module.num_features).astype(np.float32)))
                module.bias.copy_(torch.from_numpy(rng.normal(0, 0.5, module.num_features).astype(np.float32)))
    head.eval()
    config = {"name": "h", "inputs": ["technical"], "head": spec}
    model = load_model(save_bundle(tmp_path / "h", config, head, ""))
    x = rng.normal(2.0, 3.0, size=(7, N)).astype(np.float32)
    with torch.no_grad():
        expected = torch.softmax(head(torch.from_numpy(x)).double(), dim=-1).numpy()
    assert np.abs(model.predict_distribution(None, x) - expected).max() < 1e-6
    assert np.allclose(model.torch_head()(torch.from_numpy(x)).detach().numpy(), head(torch.from_numpy(x)).detach().numpy())


def test_weights_that_do_not_fit_the_config_are_refused(tmp_path):
    save_bundle(tmp_path / "h", {"name": "h", "inputs": ["technical"], "head": {"hidden": [8]}}, DistributionHead(N, hidden=(4,)), "")
    with pytest.raises(ModelError, match="do not fit"):
        load_model(tmp_path / "h")
    save_bundle(tmp_path / "g", {"name": "g", "inputs": ["technical"], "head": {}}, DistributionHead(N, hidden=(4,)), "")
    with pytest.raises(ModelError, match="do not fit"):
        load_model(tmp_path / "g")

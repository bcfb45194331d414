"""The shipped default model scores real photos offline, reproducibly; and its training learns."""
from __future__ import annotations

import json

import numpy as np
import pytest

from photocritic.models.zoo import ZOO_DIR, load_model
from photocritic.scoring import Scorer
from photocritic.training import default_data as data
from photocritic.training.default_eval import auc, damage_figures
from photocritic.training.default_model import JobTable, model_inputs


def test_default_bundle_is_the_trained_model_and_small():
    model = load_model("default")
    assert model.inputs == ["mlsp", "technical"]
    assert "nima" in model.card.lower() and "docs/models/default.md" in model.card
    size = sum(p.stat().st_size for p in (ZOO_DIR / "default").iterdir())
    assert size < 10 * 1024 * 1024
    figures = json.loads((ZOO_DIR / "default" / "evaluation.json").read_text())
    assert figures["held_out"]["default"]["professional_vs_snapshot"]["auc_as_scored"] > 0.7


@pytest.fixture(scope="session")
def scored_twice(shared_data):
    files = sorted((shared_data / "photos").glob("*.jpg"))[:6]
    first = list(Scorer("default", use_catalog=False).iter_records(files))
    second = list(Scorer("default", use_catalog=False).iter_records(files))
    return first, second


def test_default_model_scores_real_photos(scored_twice):
    first, _ = scored_twice
    for record in first:
        assert record["error"] is None
        assert 1.0 <= record["score"] <= 10.0
        assert np.isclose(sum(record["distribution"]), 1.0, atol=1e-4)
        assert record["technical"] and "sharpness" in record["technical"]
    assert np.std([r["score"] for r in first]) > 0.05  # not one constant answer


def test_identical_input_gives_identical_output(scored_twice):
    first, second = scored_twice
    assert first == second


def test_a_damaged_photo_scores_lower_with_the_shipped_model(shared_data):
    from photocritic.imaging.decode import decode_for_model
    from photocritic.models.backbone import extract_features, load_backbone, model_input
    from photocritic.models.technical import measures_vector, technical_measures
    from photocritic.training.degradations import damage_at

    model = load_model("default")
    pixels = decode_for_model(shared_data / "photos" / "Nikon D3100.jpg").pixels
    variants = [pixels] + [damage_at(pixels, "defocus", s) for s in range(3)]
    feats = extract_features(load_backbone(), np.stack([model_input(v) for v in variants])).astype(np.float16)
    tech = np.stack([measures_vector(technical_measures(v)) for v in variants])
    means = model.predict_distribution(feats.astype(np.float32), tech) @ np.arange(1, 11)
    assert (np.diff(means) < 0).all(), means


@pytest.fixture(scope="session")
def tiny_set(shared_data):
    """30 snapshots: pristine, one damage at moderate and strong strength, one obvious failure, with the
    teacher's (idealo NIMA's) distributions; features extracted here, nothing cached."""
    from photocritic.training.degradations import FAILURES
    from photocritic.training.teacher import default_teacher_path, load_teacher

    photos = [p for p in data.list_photos(shared_data) if not p.professional and min(p.width, p.height) > 256][::5][:30]
    jobs = []
    for i in range(len(photos)):
        jobs.append(data.Job(i, "pristine"))
        damage = ("defocus", "noise", "underexposure")[i % 3]
        jobs += [data.Job(i, "damaged", damage, s) for s in (1, 2)]
        jobs.append(data.Job(i, "failure", FAILURES[i % len(FAILURES)]))
    teacher = load_teacher(default_teacher_path(shared_data))
    features = data.extract_job_features(photos, jobs, cache_dir=None, log=lambda *_: None, teacher=teacher)
    folds = np.array([0 if i < 20 else 1 for i in range(len(photos))])
    return photos, jobs, features, JobTable.build(photos, jobs, folds)


def _tiny_fit(tiny_set):
    from photocritic.training.default_combined import CombinedConfig, fit, head_from_fit

    photos, jobs, features, table = tiny_set
    X = model_inputs(features, ("mlsp", "technical"))
    cfg = CombinedConfig(components=16)
    return X, table, head_from_fit(fit(X, table, photos, features["teacher"].astype(np.float64), np.flatnonzero(table.fold == 0), cfg))


def test_training_on_a_tiny_set_learns_to_rank_held_out_photos(tiny_set):
    from photocritic.training.default_combined import head_distributions

    X, table, head = _tiny_fit(tiny_set)
    means = head_distributions(head, X) @ np.arange(1, 11)
    test = np.flatnonzero(table.fold == 1)
    figures = damage_figures(means, table, rows=test)
    wins = [figures["per_type"][d][s] for d in ("defocus", "noise", "underexposure") for s in ("moderate", "strong")]
    assert np.mean(wins) >= 0.8, figures["per_type"]  # chance is 0.5
    pristine = means[test][table.kind[test] == "pristine"]
    assert auc(pristine, means[test][table.kind[test] == "damaged"]) > 0.75
    assert auc(pristine, means[test][table.kind[test] == "failure"]) > 0.75  # failures low, from 20 photos' failures


def test_training_is_reproducible(tiny_set):
    from photocritic.training.default_combined import head_distributions

    X, _, first = _tiny_fit(tiny_set)
    _, _, second = _tiny_fit(tiny_set)
    for name, tensor in first.state_dict().items():
        assert np.array_equal(tensor.numpy(), second.state_dict()[name].numpy()), name
    assert np.array_equal(head_distributions(first, X), head_distributions(second, X))


def test_hidden_layer_head_scores_in_numpy_what_was_fitted_and_ranks_held_out_photos(tiny_set):
    """The one-hidden-layer head (default_mlp): the saved head's NumPy forward gives a Gaussian around the
    fitted score (linear part, network, scale and tail terms folded into two layers), it still ranks
    held-out damage, and two fits are identical."""
    from photocritic.models.heads import NumpyHead, softmax
    from photocritic.training.default_combined import CombinedConfig, distributions, fit, head_from_fit, project

    photos, jobs, features, table = tiny_set
    X = model_inputs(features, ("mlsp", "technical"))
    teacher = features["teacher"].astype(np.float64)
    cfg = CombinedConfig(components=16, hidden=8, mlp_components=16, mlp_epochs=100)
    train = np.flatnonzero(table.fold == 0)
    fitted = fit(X, table, photos, teacher, train, cfg)
    assert np.abs(fitted.mlp["w2"]).max() > 0  # the network learned something on top of the linear score
    head = head_from_fit(fitted)
    spec = {"hidden": [head.mlp[0].out_features], "dropout": 0.0, "batch_norm": False, "hinges": head.hinges}
    numpy_head = NumpyHead(spec, {k: v.numpy() for k, v in head.state_dict().items()}, X.shape[1])
    means = softmax(numpy_head(X)) @ np.arange(1, 11)
    score = fitted.score_and_spread(project(X, fitted.basis), X)[0]
    assert np.abs(means - distributions(score, None, cfg) @ np.arange(1, 11)).max() < 1e-3
    test = np.flatnonzero(table.fold == 1)
    pristine = means[test][table.kind[test] == "pristine"]
    assert auc(pristine, means[test][table.kind[test] == "damaged"]) > 0.75
    again = head_from_fit(fit(X, table, photos, teacher, train, cfg))
    for name, tensor in head.state_dict().items():
        assert np.array_equal(tensor.numpy(), again.state_dict()[name].numpy()), name


def test_obvious_failures_score_below_real_photos_with_the_shipped_model(shared_data):
    """Failures made from real photos, scored by the shipped bundle, sit below those photos' scores."""
    from photocritic.imaging.decode import decode_for_model
    from photocritic.models.backbone import extract_features, load_backbone, model_input
    from photocritic.models.technical import measures_vector, technical_measures
    from photocritic.training.degradations import FAILURES, make_failure

    model = load_model("default")
    files = [p for p in sorted((shared_data / "professional").glob("*.jpg"))[::40]][:6]
    real = [decode_for_model(f).pixels for f in files]
    failed = [make_failure(real[i % len(real)], kind, seed=i) for i, kind in enumerate(FAILURES)]
    pixels = real + failed
    feats = extract_features(load_backbone(), np.stack([model_input(v) for v in pixels])).astype(np.float16)
    tech = np.stack([measures_vector(technical_measures(v)) for v in pixels])
    means = model.predict_distribution(feats.astype(np.float32), tech) @ np.arange(1, 11)
    real_means, failure_means = means[: len(real)], means[len(real) :]
    assert failure_means.max() < real_means.min(), (real_means, dict(zip(FAILURES, failure_means)))

"""Keras NIMA weights (idealo image-quality-assessment layout, MobileNet v1) import into PyTorch: an HDF5
file is built here with h5py and random weights, and the imported model must match a NumPy forward
pass of the same weights written from Keras' definitions."""
from __future__ import annotations

import h5py
import numpy as np
import pytest
import torch

from photocritic.training.keras_import import MOBILENET_V1_BLOCKS, KerasImportError, import_idealo_nima

rng = np.random.default_rng(0)


def _keras_layers() -> list[tuple[str, dict[str, np.ndarray]]]:
    def bn(c):
        return {"gamma": rng.uniform(0.5, 1.5, c), "beta": rng.normal(0, 0.1, c), "moving_mean": rng.normal(0, 0.1, c),
                "moving_variance": rng.uniform(0.5, 1.5, c)}
    layers = [("conv1", {"kernel": rng.normal(0, 0.3, (3, 3, 3, 32))}), ("conv1_bn", bn(32))]
    width = 32
    for k, (filters, _) in enumerate(MOBILENET_V1_BLOCKS, start=1):
        layers += [(f"conv_dw_{k}", {"depthwise_kernel": rng.normal(0, 0.3, (3, 3, width, 1))}), (f"conv_dw_{k}_bn", bn(width)),
                   (f"conv_pw_{k}", {"kernel": rng.normal(0, np.sqrt(2 / width), (1, 1, width, filters))}), (f"conv_pw_{k}_bn", bn(filters))]
        width = filters
    layers.append(("dense_1", {"kernel": rng.normal(0, 0.05, (1024, 10)), "bias": rng.normal(0, 0.1, 10)}))
    return [(name, {k: v.astype(np.float32) for k, v in w.items()}) for name, w in layers]


def _write_hdf5(path, layers, extra=()):
    with h5py.File(path, "w") as f:  # Keras 2 save_weights layout: /<layer>/<layer>/<weight>:0
        names = ["input_1", *[n for n, _ in layers], *extra, "dropout_1"]
        f.attrs["layer_names"] = np.array([n.encode() for n in names])
        f.attrs["keras_version"] = b"2.2.4"
        for name in names:
            group = f.create_group(name)
            weights = dict(layers).get(name, {})
            group.attrs["weight_names"] = np.array([f"{name}/{k}:0".encode() for k in weights])
            for k, v in weights.items():
                group.create_dataset(f"{name}/{k}:0", data=v)


def _numpy_forward(layers, image):
    """Keras MobileNet v1 in NumPy, channels last: ZeroPadding((0,1),(0,1)) + valid for stride 2, 'same' else."""
    w = dict(layers)
    def conv(x, kernel, stride, depthwise):
        kh = kernel.shape[0]
        if kh == 3:
            x = np.pad(x, ((0, 1), (0, 1), (0, 0)) if stride == 2 else ((1, 1), (1, 1), (0, 0)))
        h = (x.shape[0] - kh) // stride + 1
        ww = (x.shape[1] - kh) // stride + 1
        out = np.zeros((h, ww, kernel.shape[2] if depthwise else kernel.shape[3]))
        for i in range(kh):
            for j in range(kh):
                patch = x[i:i + stride * h:stride, j:j + stride * ww:stride]
                out += patch * kernel[i, j, :, 0] if depthwise else patch @ kernel[i, j]
        return out
    def bn_relu6(x, p):
        return np.clip((x - p["moving_mean"]) / np.sqrt(p["moving_variance"] + 1e-3) * p["gamma"] + p["beta"], 0, 6)
    x = bn_relu6(conv(image, w["conv1"]["kernel"], 2, False), w["conv1_bn"])
    for k, (_, stride) in enumerate(MOBILENET_V1_BLOCKS, start=1):
        x = bn_relu6(conv(x, w[f"conv_dw_{k}"]["depthwise_kernel"], stride, True), w[f"conv_dw_{k}_bn"])
        x = bn_relu6(conv(x, w[f"conv_pw_{k}"]["kernel"], 1, False), w[f"conv_pw_{k}_bn"])
    logits = x.mean(axis=(0, 1)) @ w["dense_1"]["kernel"] + w["dense_1"]["bias"]
    e = np.exp(logits - logits.max())
    return e / e.sum()


def test_imported_model_matches_a_numpy_forward_pass(tmp_path):
    layers = _keras_layers()
    path = tmp_path / "weights_mobilenet_aesthetic.hdf5"
    _write_hdf5(path, layers)
    model = import_idealo_nima(path)
    assert torch.equal(model.features[0].conv.weight, torch.from_numpy(layers[0][1]["kernel"].transpose(3, 2, 0, 1).copy()))
    assert torch.equal(model.dense.weight, torch.from_numpy(dict(layers)["dense_1"]["kernel"].T.copy()))
    image = rng.uniform(-1, 1, (2, 67, 45, 3)).astype(np.float32)  # odd sizes exercise Keras' asymmetric padding
    with torch.no_grad():
        ours = model(torch.from_numpy(image.transpose(0, 3, 1, 2).copy())).numpy()
    reference = np.stack([_numpy_forward(layers, im.astype(np.float64)) for im in image])
    assert ours.shape == (2, 10) and np.allclose(ours.sum(axis=1), 1, atol=1e-5)
    assert np.abs(ours - reference).max() < 1e-4
    assert np.abs(ours[0] - ours[1]).max() > 1e-4  # two images, two answers: the weights do something


def test_wrong_layouts_are_refused_with_a_reason(tmp_path):
    layers = _keras_layers()
    _write_hdf5(tmp_path / "two_dense.hdf5", layers + [("dense_2", {"kernel": np.zeros((10, 10), np.float32)})])
    with pytest.raises(KerasImportError, match="one Dense layer"):
        import_idealo_nima(tmp_path / "two_dense.hdf5")
    _write_hdf5(tmp_path / "no_block.hdf5", [l for l in layers if l[0] != "conv_pw_13"])
    with pytest.raises(KerasImportError, match="conv_pw_13"):
        import_idealo_nima(tmp_path / "no_block.hdf5")
    (tmp_path / "text.hdf5").write_text("not hdf5")
    with pytest.raises(KerasImportError, match="not an HDF5"):
        import_idealo_nima(tmp_path / "text.hdf5")

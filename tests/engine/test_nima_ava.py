"""nima-ava is a faithful port of idealo's NIMA: on real photos, the shipped ONNX graph's distribution equals
an independent layer-by-layer reading of idealo's HDF5 file (h5py and NumPy, written here from Keras'
definitions, not from photocritic.training.keras_import) within 1e-4, and the scoring pipeline gives it."""
from __future__ import annotations

import numpy as np
import pytest

from photocritic.engine import Network, graph_path
from photocritic.imaging import decode_for_model
from photocritic.library.scan import find_photos
from photocritic.models.zoo import load_model
from photocritic.scoring import Scorer

h5py = pytest.importorskip("h5py")

N_BLOCKS = 13
STRIDES = (1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1)  # depthwise strides of MobileNet v1's 13 blocks


def _read_hdf5(path):
    """{layer: {weight: array}} from a Keras 2 HDF5 file (save_weights, or save's model_weights group)."""
    layers = {}
    with h5py.File(path, "r") as f:
        root = f["model_weights"] if "model_weights" in f else f
        for name in root:
            weights = {}
            root[name].visititems(lambda key, item: weights.__setitem__(key.split("/")[-1].split(":")[0], np.array(item, dtype=np.float64))
                                  if isinstance(item, h5py.Dataset) else None)
            if weights:
                layers[name] = weights
    return layers


def _conv(x, kernel, stride, depthwise):
    """Keras Conv2D / DepthwiseConv2D, channels last, 'same' padding as TensorFlow does it: the total padding
    is split with the odd pixel at the bottom/right, so stride 2 on an even size pads bottom/right only."""
    k = kernel.shape[0]
    h, w = x.shape[:2]
    out_h, out_w = -(-h // stride), -(-w // stride)
    pad_h = max((out_h - 1) * stride + k - h, 0)
    pad_w = max((out_w - 1) * stride + k - w, 0)
    x = np.pad(x, ((pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2), (0, 0)))
    out = np.zeros((out_h, out_w, kernel.shape[2] if depthwise else kernel.shape[3]))
    for i in range(k):
        for j in range(k):
            patch = x[i : i + stride * out_h : stride, j : j + stride * out_w : stride]
            out += patch * kernel[i, j, :, 0] if depthwise else patch @ kernel[i, j]
    return out


def _bn_relu6(x, p):
    return np.clip((x - p["moving_mean"]) / np.sqrt(p["moving_variance"] + 1e-3) * p["gamma"] + p["beta"], 0.0, 6.0)


def _keras_nima(layers, image):
    """idealo's NIMA on one H x W x 3 image in [-1, 1]: MobileNet v1, global average pool, Dense(10) softmax
    (dropout is off at inference)."""
    x = _bn_relu6(_conv(image, layers["conv1"]["kernel"], 2, False), layers["conv1_bn"])
    for k in range(1, N_BLOCKS + 1):
        x = _bn_relu6(_conv(x, layers[f"conv_dw_{k}"]["depthwise_kernel"], STRIDES[k - 1], True), layers[f"conv_dw_{k}_bn"])
        x = _bn_relu6(_conv(x, layers[f"conv_pw_{k}"]["kernel"], 1, False), layers[f"conv_pw_{k}_bn"])
    (dense,) = [v for name, v in layers.items() if name.startswith("dense")]
    logits = x.mean(axis=(0, 1)) @ dense["kernel"] + dense["bias"]
    e = np.exp(logits - logits.max())
    return e / e.sum()


@pytest.fixture(scope="module")
def idealo(shared_data):
    path = shared_data.parent / "weights" / "idealo-nima-aesthetic" / "weights_mobilenet_aesthetic_0.07.hdf5"
    if not path.is_file():
        pytest.fail(f"idealo's NIMA weights are missing at {path}")
    return _read_hdf5(path)


@pytest.fixture(scope="module")
def photos(shared_data):
    files = sorted(find_photos([shared_data / "photos"]))[::23][:5] + sorted(find_photos([shared_data / "professional"], recursive=True))[::150][:3]
    assert len(files) == 8
    return files


def test_shipped_graph_equals_an_independent_reading_of_the_hdf5(idealo, photos):
    model = load_model("nima-ava")
    inputs = np.stack([model.network_input(decode_for_model(f, keep_drafted=True).drafted) for f in photos])
    assert inputs.shape == (len(photos), 3, 224, 224) and inputs.min() >= -1.0 and inputs.max() <= 1.0
    shipped = Network(graph_path("nima-ava.onnx"), threads=2)(inputs)
    reference = np.stack([_keras_nima(idealo, x.transpose(1, 2, 0).astype(np.float64)) for x in inputs])
    assert np.abs(shipped - reference).max() < 1e-4
    # the photos are told apart (a port that lost its weights would give one distribution for all)
    means = reference @ np.arange(1, 11)
    assert means.max() - means.min() > 0.3


def test_the_scoring_pipeline_gives_the_graphs_distribution(idealo, photos):
    scorer = Scorer("nima-ava", use_catalog=False, threads=2)
    records = list(scorer.iter_records(photos[:3]))
    model = load_model("nima-ava")
    for path, record in zip(photos, records):
        x = model.network_input(decode_for_model(path, keep_drafted=True).drafted).transpose(1, 2, 0).astype(np.float64)
        expected = _keras_nima(idealo, x)
        assert record["model"] == "nima-ava" and record["error"] is None
        assert np.abs(np.array(record["distribution"]) - expected).max() < 1e-4
        assert abs(record["score"] - expected @ np.arange(1, 11)) < 1e-3
    # the backbone's features are still computed, for the catalog and culling
    assert all(row.features is not None and row.features.shape == (2048,) for _, row in Scorer("nima-ava", use_catalog=False).iter_scored(photos[:1]))


def test_preprocessing_matches_idealos_full_decode(photos):
    """idealo predict with Keras' load_img: the full decode squashed to 224 x 224 by nearest neighbours. Ours
    squashes libjpeg's DCT-scaled decode the same way (a bilinear squash of the working image scored about
    0.8 lower, Spearman 0.7 with idealo's: see docs/models/nima-ava.md)."""
    from PIL import Image, ImageOps

    model = load_model("nima-ava")
    network = Network(model.network_graph, threads=2)
    ours, theirs = [], []
    for path in photos:
        with Image.open(path) as image:
            upright = ImageOps.exif_transpose(image.convert("RGB"))  # idealo ignores EXIF orientation; we do not
            rgb = np.asarray(upright.resize((224, 224), Image.Resampling.NEAREST), dtype=np.float32)
        theirs.append(network((rgb / 127.5 - 1.0).transpose(2, 0, 1)[None])[0] @ np.arange(1, 11))
        ours.append(network(model.network_input(decode_for_model(path, keep_drafted=True).drafted)[None])[0] @ np.arange(1, 11))
    assert np.abs(np.array(ours) - np.array(theirs)).mean() < 0.1

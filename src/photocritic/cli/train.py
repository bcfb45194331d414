"""`photocritic train`: train an aesthetic model into a run folder (and `import-keras`)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from photocritic.cli.common import (
    EXIT_OK,
    EXIT_SOME_FAILED,
    check_input_file,
    check_input_folder,
    check_output_folder,
    usage_error,
)

TRAIN_EPILOG = """
**Examples**

* `photocritic train runs/nima --ava AVA/AVA.txt --images AVA/images --test-list AVA/aesthetics_image_lists/generic_test.jpgl --train-list AVA/aesthetics_image_lists/generic_ls_train.jpgl`
* `photocritic train runs/nima-ft --ava AVA.txt --images images --finetune-epochs 3 --device cuda` : phase 2 on a GPU
* `photocritic train runs/mine --csv ratings.csv --head regression` : a CSV with path and mean (or n1..n10)
* `photocritic train runs/gb --good-bad photos/ --head binary` : folders photos/good and photos/bad
* `photocritic train runs/nima --ava AVA.txt --images images --resume` : go on after a crash

Phase 1 trains the head on frozen backbone features, cached on disk (`--cache`), so epochs after the
first extraction take seconds; phase 2 (`--finetune-epochs`) trains the whole net at a lower learning
rate with NIMA's augmentation (resize 256, random crop 224, flips).

The run folder holds config.json, model/ (load it with `photocritic score --model RUN_DIR`), history.csv,
loss.png, metric.png, timings.json, metrics.json, evaluation-test.md, problems.txt and checkpoints/.
Missing and corrupt photos are listed in problems.txt and left out.

**Exit codes**: 0 trained, every photo usable; 1 trained, some photos left out; 2 usage error or too
little usable data (nothing is left behind then); 3 internal error (a bug: please report it).
"""


def train_command(
    run_dir: Path = typer.Argument(..., metavar="RUN_DIR", help="The run folder to create (or resume)."),
    ava: Path = typer.Option(None, "--ava", help="AVA.txt (or any file in its format)."),
    images: Path = typer.Option(None, "--images", help="With --ava: the folder of <image id>.jpg files."),
    train_list: Path = typer.Option(None, "--train-list", help="With --ava: e.g. generic_ls_train.jpgl (or a category list)."),
    test_list: Path = typer.Option(None, "--test-list", help="With --ava: e.g. generic_test.jpgl; else a random test split."),
    csv_path: Path = typer.Option(None, "--csv", help="A CSV: path and mean, or path and n1..n10 (optional split column)."),
    good_bad: Path = typer.Option(None, "--good-bad", help="A folder with good/ and bad/ sub-folders."),
    config_file: Path = typer.Option(None, "--config", help="A JSON file of TrainConfig fields (options below override it)."),
    head: str = typer.Option(None, "--head", help="distribution (NIMA, EMD) | regression (MSE) | binary (cross-entropy)."),
    backbone: str = typer.Option(None, "--backbone", help="efficientnet-lite0 | efficientnet-lite1 | efficientnet-lite2 | mobilenet-v2."),
    epochs: int = typer.Option(None, "--epochs", min=0, help="Phase 1 epochs (head on cached features) [default: 20]."),
    finetune_epochs: int = typer.Option(None, "--finetune-epochs", min=0, help="Phase 2 epochs (whole net) [default: 0]."),
    binary_rule: str = typer.Option(None, "--binary-rule", help="threshold (good = mean > 5) | top_bottom (top/bottom 20%)."),
    sampling: str = typer.Option(None, "--sampling", help="none | under | over: balance rating bins (or classes)."),
    class_weights: bool = typer.Option(None, "--class-weights/--no-class-weights", help="Weight the loss by inverse bin frequency."),
    double_column: bool = typer.Option(None, "--double-column/--single-column", help="Seed 004's global + local view net."),
    seed: int = typer.Option(None, "--seed", help="Fixed seed [default: 0]; the same seed gives the same run."),
    device: str = typer.Option("auto", "--device", help="cpu | cuda | auto. Mixed precision on CUDA."),
    cache: Path = typer.Option(Path.home() / ".cache" / "photocritic" / "features", "--cache", help="Feature cache folder."),
    resume: bool = typer.Option(False, "--resume", help="Go on from the last epoch checkpoint in RUN_DIR."),
    classic: bool = typer.Option(False, "--classic", help="Also fit an SVM and a random forest on the same features."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
) -> None:
    """Train an aesthetic model (NIMA-style head, optional fine-tuning) into RUN_DIR."""
    from photocritic.cli.common import progress_bar
    from photocritic.training.config import TrainConfig

    try:
        from photocritic.training.run import ConfigMismatch, train_run
    except ImportError as exc:  # training needs gradients: the one command that needs the [train] extra
        raise usage_error(f'training needs PyTorch ({exc}): pip install "photocritic[train]"') from None

    sources = [s for s in (ava, csv_path, good_bad) if s is not None]
    if len(sources) != 1:
        raise usage_error("give exactly one dataset: --ava (with --images), --csv or --good-bad")
    for option, path in (("--ava", ava), ("--csv", csv_path), ("--train-list", train_list), ("--test-list", test_list),
                         ("--config", config_file)):
        check_input_file(path, option)
    check_input_folder(images, "--images")
    check_input_folder(good_bad, "--good-bad")
    check_output_folder(run_dir, "RUN_DIR")
    check_output_folder(cache, "--cache")
    try:
        if config_file:
            json.loads(config_file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise usage_error(f"--config {str(config_file)!r} is not valid JSON ({exc})") from None
    try:
        base = TrainConfig.load(config_file) if config_file else (TrainConfig.load(run_dir / "config.json") if resume and (run_dir / "config.json").is_file() else TrainConfig())
        overrides = {k: v for k, v in dict(head=head, backbone=backbone, epochs=epochs, finetune_epochs=finetune_epochs,
                                            binary_rule=binary_rule, sampling=sampling, class_weights=class_weights,
                                            double_column=double_column, seed=seed, device=device).items() if v is not None}
        config = TrainConfig.from_dict({**json.loads(base.to_json()), **overrides})
        config.validate()
        photos = _load_dataset(ava, images, train_list, test_list, csv_path, good_bad, config)
    except (ValueError, FileNotFoundError, OSError) as exc:
        raise usage_error(str(exc)) from None

    import contextlib

    bars = contextlib.ExitStack()

    def progress_factory(label: str):
        return bars.enter_context(progress_bar(label, enabled=not quiet))

    def on_epoch_end(row: dict) -> None:
        if not quiet:
            extra = " ".join(f"{k}={v:.4f}" for k, v in row.items() if k.startswith("val_") and isinstance(v, float))
            typer.echo(f"{row['phase']} epoch {row['epoch']}: train_loss={row['train_loss']:.4f} {extra} ({row['seconds']:.1f} s)", err=True)

    try:
        with bars:
            result = train_run(photos, config, run_dir, cache, resume=resume, log=lambda m: typer.echo(m, err=True),
                               progress_factory=progress_factory, on_epoch_end=on_epoch_end, classic=classic)
    except (ConfigMismatch, ValueError) as exc:
        raise usage_error(str(exc)) from None
    for problem in result.problems[:20]:
        typer.echo(f"left out: {problem}", err=True)
    if len(result.problems) > 20:
        typer.echo(f"... and {len(result.problems) - 20} more in {run_dir / 'problems.txt'}", err=True)
    if (run_dir / "evaluation-test.md").is_file() and not quiet:
        typer.echo((run_dir / "evaluation-test.md").read_text(encoding="utf-8"), err=True)
    typer.echo(str(run_dir))
    raise typer.Exit(EXIT_SOME_FAILED if result.problems else EXIT_OK)


def _load_dataset(ava, images, train_list, test_list, csv_path, good_bad, config):
    from photocritic.training.datasets import load_ava, load_good_bad, load_ratings_csv

    split = dict(val_fraction=config.val_fraction, test_fraction=config.test_fraction, seed=config.seed)
    if ava is not None:
        if images is None:
            raise ValueError("--ava needs --images (the folder of <image id>.jpg files)")
        tags, challenges = ava.parent / "tags.txt", ava.parent / "challenges.txt"
        return load_ava(ava, images, train_list=train_list, test_list=test_list, tags_txt=tags if tags.is_file() else None,
                        challenges_txt=challenges if challenges.is_file() else None, **split)
    if csv_path is not None:
        return load_ratings_csv(csv_path, **split)
    return load_good_bad(good_bad, **split)


IMPORT_EPILOG = """
**Example**: `photocritic import-keras weights_mobilenet_aesthetic_0.07.hdf5 nima-keras.safetensors`

Reads NIMA weights saved by idealo's image-quality-assessment (Keras MobileNet v1, alpha 1, Dropout,
Dense(10, softmax)) and writes them as safetensors for photocritic.training.keras_import.NimaMobileNetV1.
"""


def import_keras_command(
    hdf5: Path = typer.Argument(..., metavar="HDF5", exists=True, dir_okay=False, help="The Keras HDF5 weights file."),
    output: Path = typer.Argument(..., metavar="OUTPUT", help="The safetensors file to write."),
) -> None:
    """Import Keras NIMA (idealo image-quality-assessment, MobileNet v1) weights into PyTorch."""
    try:
        from photocritic.training.keras_import import KerasImportError, import_idealo_nima
    except ImportError as exc:
        raise usage_error(f'importing Keras weights needs PyTorch and h5py ({exc}): pip install "photocritic[train]"') from None

    from photocritic.cli.common import check_output_file

    check_output_file(output, "OUTPUT")
    try:
        model = import_idealo_nima(hdf5)
    except KerasImportError as exc:
        raise usage_error(str(exc)) from None
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(output))
    typer.echo(str(output))
    print(f"imported {sum(p.numel() for p in model.parameters())} parameters", file=sys.stderr)

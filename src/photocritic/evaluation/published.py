"""Published AVA results, printed beside ours and always labelled as theirs.

Only figures we could check against the papers are listed. All are on the standard AVA test split
(about 20,000 images, ``generic_test.jpgl`` or close to it); accuracy is binary at a mean of 5.
"""
from __future__ import annotations

# (method, accuracy %, SRCC, PLCC, EMD, source)
PUBLISHED_AVA: list[tuple[str, float | None, float | None, float | None, float | None, str]] = [
    ("NIMA (MobileNet)", 80.36, 0.510, 0.518, 0.081, "Talebi & Milanfar, NIMA: Neural Image Assessment, IEEE TIP 2018, Table"),
    ("NIMA (VGG16)", 80.60, 0.592, 0.610, 0.051, "Talebi & Milanfar, IEEE TIP 2018"),
    ("NIMA (Inception-v2)", 81.51, 0.612, 0.638, 0.050, "Talebi & Milanfar, IEEE TIP 2018"),
    ("MLSP features + shallow CNN (InceptionResNet-v2, full resolution)", None, 0.756, None, None, "Hosu, Goldluecke, Saupe, Effective Aesthetics Prediction with Multi-level Spatially Pooled Features, CVPR 2019 (abstract)"),
    ("Kong et al. (AlexNet, ranking)", 77.33, 0.558, None, None, "Kong, Shen, Lin, Mech, Fowlkes, Photo Aesthetics Ranking Network with Attributes and Content Adaptation, ECCV 2016"),
]


def published_table_markdown() -> str:
    def fmt(value, spec):
        return "-" if value is None else format(value, spec)

    lines = ["Published results on AVA (THEIRS, from the papers; not measured here):", "",
             "| method (theirs) | accuracy | SRCC | PLCC | EMD | source |", "|---|---|---|---|---|---|"]
    for name, acc, srcc, plcc, emd, source in PUBLISHED_AVA:
        lines.append(f"| {name} | {fmt(acc, '.2f')}% | {fmt(srcc, '.3f')} | {fmt(plcc, '.3f')} | {fmt(emd, '.3f')} | {source} |")
    return "\n".join(lines) + "\n"

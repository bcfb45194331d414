"""The built-in ``default`` model's build, in one room: ``python scripts/train_default_model.py --biq2021 DIR``.

``biq2021``   the 12,000 lab-rated photos (their opinion scores: what people rate), official split, folds
``shared``    the project's own photos and the copies that teach the damage ranking and the failure tails
``features``  every picture's backbone features, measures and nima-ava's distribution, cached in chunks
``fit``       the three outputs (quality_score, aesthetic_score, score) and the bundle's head
``evaluate``  figures: agreement with people and with nima-ava, damage, failures, biases
``build``     choosing the settings on the train split, held-out figures, the test split once, the bundle

Imports flow one way: build -> fit, evaluate, biq2021, shared -> features. PyTorch is not needed.
"""

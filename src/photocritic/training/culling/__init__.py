"""Fitting culling's ranking to evidence: burst generators, BIQ2021's real series, the pairwise fit.

Entry point: ``python scripts/train_cull_ranker.py`` (see docs/models/cull-ranker.md).
"""

"""Evaluation of aesthetic models: metrics with bootstrap intervals beside naive baselines, the
published AVA results (theirs, clearly marked), and top/bottom grids."""

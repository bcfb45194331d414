"""Training code: photo damage functions and the fitting of the built-in ``default`` model.

General AVA training lives beside it in its own modules.
"""

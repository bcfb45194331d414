"""Culling: group bursts and near-duplicates, pick the best frame of each, hand the picks to photo tools.

* :mod:`~photocritic.culling.grouping`: capture-time and embedding neighbours, union-find (:func:`group_bursts`);
* :mod:`~photocritic.culling.ranking`: the best frame of a group and the reasons (:func:`rank_group`);
* :mod:`~photocritic.culling.faces`: faces, eye state, face sharpness and exposure (MediaPipe's networks in ONNX);
* :mod:`~photocritic.culling.frames`: grain, directional sharpness, clipping and the salient region of a frame;
* :mod:`~photocritic.culling.xmp`: read and merge ``xmp:Rating`` / ``xmp:Label`` in XMP sidecars;
* :mod:`~photocritic.culling.moves`: journalled, undoable moves of rejects into a folder;
* :mod:`~photocritic.culling.contact_sheet`: the HTML contact sheet.
"""
from photocritic.culling.grouping import GroupingConfig, group_bursts
from photocritic.culling.pipeline import cull_records, cull_scored, reasons_after_pick
from photocritic.culling.ranking import RankWeights, rank_group

__all__ = ["GroupingConfig", "RankWeights", "cull_records", "cull_scored", "group_bursts", "rank_group", "reasons_after_pick"]

"""The report-text vocabulary, one module per concept, below the report record and every extractor.

``sections`` splits a report into its sections, ``sentences`` says where a sentence ends (the one
rule), ``spans`` where in a report the rules look, ``assertion`` whether a mention is present,
absent or uncertain (with the status maps of CheXpert and RadGraph and the historical cues),
``sites`` the site words a stated value is for (and the lobe vocabulary the RADS systems, TNM and
the timeline share), ``tnm`` the TNM stage tokens, ``dates`` study dates, ``exam_headers`` what an
exam header names. Nothing here imports the report record or any stage above it.
"""

"""The site validation kit: sample committed values, review them in a static page, import the verdicts as
the ``review_verdicts`` table, and measure each table's precision and miss rate with confidence intervals.

    sample.py    draw a stratified sample and its manifest
    views.py     what a reviewer sees of a row of each table (label, value, claim or not)
    page.py      the self-contained HTML review page (template: page.html)
    verdicts.py  read, check and commit a verdict file (the page's export or a spreadsheet's); adjudications
    figures.py   precision, miss rate, Wilson intervals at an effective n, stratified weights, disputes,
                 Cohen's kappa, staleness
    gate.py      pass/fail of a table for a nightly job (refused while stale or disputed)
    render.py    the figures as Markdown/HTML with a plot per table
"""

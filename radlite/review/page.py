"""The review page: one self-contained static HTML file (inline script and style, no network) per sample."""

from __future__ import annotations

import json
from importlib import resources

from radlite.review.sample import SampleManifest
from radlite.tables import arrow_schema

TEMPLATE = "page.html"


def page_data(manifest: SampleManifest, texts: dict[str, str]) -> dict:
    """What the page's script reads: the sample's items and the text of their reports."""
    return {
        "sample_id": manifest.sample_id,
        "out_id": manifest.out_id,
        "out": manifest.out,
        "has_supported": any("supported" in arrow_schema(t).names for t in manifest.tables),
        "items": [item.model_dump() for item in manifest.items],
        "reports": {i.report_id: texts.get(i.report_id, "") for i in manifest.items},
    }


def _script_safe_json(data: dict) -> str:
    """JSON that cannot end its <script> element early: <, > and & are written as \\u escapes."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_page(manifest: SampleManifest, texts: dict[str, str]) -> str:
    """The HTML of the review page for ``manifest``; ``texts`` maps report_id to the report's text."""
    template = resources.files("radlite.review").joinpath(TEMPLATE).read_text(encoding="utf-8")
    return (template.replace("__SAMPLE_ID__", manifest.sample_id)
            .replace("__SAMPLE_JSON__", _script_safe_json(page_data(manifest, texts))))

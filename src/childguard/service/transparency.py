"""Public transparency report (3c): how the child protection mode decided, in aggregate only: counts by
category, action, age band and language, and how fast humans reviewed escalations. Cells under
`transparency_min_count` are suppressed; nothing here can point at a child."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from ..store.stats import transparency
from ..taxonomy import get_taxonomy
from .context import Services
from .web import render


def _bars(counts: dict[str, Any], names: dict[str, str] | None = None, width: int = 170) -> list[dict[str, Any]]:
    """Horizontal bar geometry for the SVG chart; suppressed cells are drawn as empty bars."""
    numeric = {k: v for k, v in counts.items() if isinstance(v, int)}
    top = max(numeric.values(), default=1) or 1
    rows = []
    for i, (key, value) in enumerate(counts.items()):
        n = value if isinstance(value, int) else 0
        rows.append({"y": 22 * i, "w": max(2, round(width * n / top)) if n else 0, "label": (names or {}).get(key, key),
                     "value": value})
    return rows


def transparency_router(services: Services) -> APIRouter:
    router = APIRouter()
    settings = services.settings
    tax = get_taxonomy()
    names = {c: c.replace("_", " ").capitalize() for c in tax.categories} | {"none": "nothing flagged"}

    def report() -> dict[str, Any]:
        services.counter.flush(services.store)  # include what the last seconds counted
        return transparency(services.store, settings.transparency_days, settings.transparency_min_count)

    @router.get("/v1/transparency", tags=["transparency"])
    async def transparency_api() -> dict[str, Any]:
        return await services.store_pool.run(report)

    @router.get("/transparency", response_class=HTMLResponse, include_in_schema=False)
    async def transparency_page() -> Response:
        data = await services.store_pool.run(report)
        charts = {"action": _bars(data["by_action"]), "category": _bars(data["by_category"], names),
                  "age_band": _bars(data["by_age_band"]), "language": _bars(data["by_language"])}
        return render("transparency.html", data=data, charts=charts)

    return router

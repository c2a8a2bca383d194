"""Public transparency report (3c): how the child protection mode decided, in aggregate only: counts by
category, action, age band and language, and how fast humans reviewed escalations. Cells under
`transparency_min_count` are suppressed; nothing here can point at a child."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from ..iso_codes import OTHER, UNDETERMINED
from ..jurisdictions import TRANSPARENCY_SECTIONS
from ..store.stats import transparency
from ..taxonomy import get_taxonomy
from .context import Services, ServicesDep
from .web import render

BAR_W = 200  # units of a bar's own SVG, which stretches to the space the label leaves


def _bars(counts: dict[str, Any], names: dict[str, str] | None = None) -> dict[str, Any]:
    """One row per count: the label is HTML text (whole, wrapping, 15px at any screen width; the old SVG
    chart cut labels at 19 characters, "Emotional dependen…", and scaled its text down), the bar an SVG
    stretched to the rest of the row; suppressed cells get an empty bar."""
    numeric = {k: v for k, v in counts.items() if isinstance(v, int)}
    top = max(numeric.values(), default=1) or 1
    rows = [{"w": max(2, round(BAR_W * value / top)) if isinstance(value, int) and value else 0,
             "label": (names or {}).get(key, key), "value": value} for key, value in counts.items()]
    return {"rows": rows}


@lru_cache(maxsize=1)
def _language_names() -> dict[str, str]:
    from babel import Locale

    names = {str(k): str(v) for k, v in Locale("en").languages.items()}
    return names | {UNDETERMINED: "could not tell", OTHER: "other codes"}


def language_label(code: str) -> str:
    name = _language_names().get(code)
    return f"{name} ({code})" if name and code not in (UNDETERMINED, OTHER) else name or code


@lru_cache(maxsize=1)
def _category_names() -> dict[str, str]:
    return {c: c.replace("_", " ").capitalize() for c in get_taxonomy().categories} | {"none": "nothing flagged"}


def _report(services: Services) -> dict[str, Any]:
    settings = services.settings
    services.counter.flush(services.store)  # include what the last seconds counted
    data = transparency(services.store, settings.transparency_days, settings.transparency_min_count)
    data["contests"] = services.contests.stats(settings.transparency_days, settings.transparency_min_count)
    j = services.jurisdiction
    if j is not None:  # the active profile decides which counts are published
        data = {k: v for k, v in data.items() if k not in TRANSPARENCY_SECTIONS or k in j.publishes}
        data["jurisdiction"] = {"id": j.id, "name": j.name, "publishes": j.publishes,
                                "cite": j.rules["transparency_publish"].cite
                                if "transparency_publish" in j.rules else None}
    return data


router = APIRouter()


@router.get("/v1/transparency", tags=["transparency"])
async def transparency_api(services: ServicesDep) -> dict[str, Any]:
    return await services.store_pool.run(_report, services)


@router.get("/transparency", response_class=HTMLResponse, include_in_schema=False)
async def transparency_page(services: ServicesDep) -> Response:
    data = await services.store_pool.run(_report, services)
    names = _category_names()
    languages = {code: language_label(code) for code in data.get("by_language", {})}
    charts = {key: _bars(data[section], names if key == "category" else languages if key == "language" else None)
              for key, section in (("action", "by_action"), ("category", "by_category"),
                                   ("age_band", "by_age_band"), ("language", "by_language")) if section in data}
    return render("transparency.html", data=data, charts=charts, names=names, bar_w=BAR_W)

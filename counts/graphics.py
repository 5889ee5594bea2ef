"""Charts and the map as SVG geometry computed on the server (no chart or map library in the browser).

Presentation only: the figures come from a count snapshot's stored result. The map projects the
country outline (Natural Earth, built into static/vendor/ by `make assets`) and each governorate's
capital with one equirectangular projection scaled for the country's latitude, and draws each
governorate as a circle whose area is proportional to its figure.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from functools import lru_cache
from typing import Any

from django.contrib.staticfiles import finders

CATEGORIES = ("children", "women", "men", "unknown")
CATEGORY_CLASS = {"children": "child", "women": "woman", "men": "man", "unknown": "unknown"}


def bars(rows: list[dict[str, Any]], value_key: str = "total") -> list[dict[str, Any]]:
    """Rows with `percent` (0–100) of the largest value, for horizontal bar charts."""
    largest = max((int(row.get(value_key) or 0) for row in rows), default=0)
    return [
        {**row, "percent": round(100 * int(row.get(value_key) or 0) / largest, 2) if largest else 0} for row in rows
    ]


def stacked(row: dict[str, Any]) -> list[dict[str, Any]]:
    """Category segments (children, women, men, unknown) of one row as x offsets and widths (0–100)."""
    total = sum(int(row.get(key) or 0) for key in CATEGORIES)
    segments, offset = [], 0.0
    for key in CATEGORIES:
        value = int(row.get(key) or 0)
        width = 100 * value / total if total else 0
        segments.append(
            {"key": key, "css": CATEGORY_CLASS[key], "value": value, "x": round(offset, 3), "width": round(width, 3)}
        )
        offset += width
    return segments


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 × 10^n at or above `value` (at least 1): the top of a value axis."""
    if value <= 1:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


# Beyond this many days a window is drawn a month per column (a column per day would be a hair wide).
MAX_DAY_COLUMNS = 190


def day_columns(
    rows: list[dict[str, Any]],
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    width: int = 640,
    height: int = 240,
) -> dict[str, Any]:
    """The day chart: a column per day of the window, days without deaths included (as zero), dates
    ascending; a month per column when the window is longer than MAX_DAY_COLUMNS days. With the value
    axis (0, half, top, rounded to 1/2/5 × 10^n), date labels under the axis and, when the columns are
    wide enough, each column's value above it. `width` × `height` is the whole drawing, axes included."""
    totals: dict[dt.date, int] = {}
    massacres: dict[dt.date, int] = {}
    for row in rows:
        day = _as_date(row.get("date"))
        if day is not None:
            totals[day] = totals.get(day, 0) + int(row.get("total") or 0)
            massacres[day] = massacres.get(day, 0) + int(row.get("massacres") or 0)
    first = date_from or min(totals, default=None)
    last = date_to or max(totals, default=None)
    if first is None or last is None or last < first:
        return {"width": width, "height": height, "columns": [], "by_month": False}
    days = (last - first).days + 1
    by_month = days > MAX_DAY_COLUMNS
    buckets: list[tuple[dt.date, int, int]] = []
    if by_month:
        month = first.replace(day=1)
        while month <= last:
            following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            value = sum(total for day, total in totals.items() if month <= day < following)
            buckets.append((month, value, sum(n for day, n in massacres.items() if month <= day < following)))
            month = following
    else:
        for n in range(days):
            day = first + dt.timedelta(days=n)
            buckets.append((day, totals.get(day, 0), massacres.get(day, 0)))
    left, right, top, bottom = 44, 8, 18, 40  # room for the value axis, and the date labels below
    plot_width, plot_height = width - left - right, height - top - bottom
    top_value = nice_ceiling(max((value for _day, value, _massacres in buckets), default=0))
    step = plot_width / len(buckets)
    bar = min(step * 0.8, 36)
    columns = []
    for index, (day, value, day_massacres) in enumerate(buckets):
        column_height = plot_height * value / top_value
        x = left + index * step + (step - bar) / 2
        columns.append(
            {
                "date": day,
                "total": value,
                "massacres": day_massacres,
                "x": round(x, 2),
                "y": round(top + plot_height - column_height, 2),
                "width": round(bar, 2),
                "height": round(column_height, 2),
                "centre": round(x + bar / 2, 2),
                "empty": value == 0,
            }
        )
    label_every = max(1, math.ceil(len(columns) / 6))  # about six date labels, whatever the window
    labels = [column for index, column in enumerate(columns) if index % label_every == 0]
    if columns[-1] not in labels and len(columns) > 1:
        if labels and columns[-1]["centre"] - labels[-1]["centre"] < plot_width / 8:
            labels.pop()
        labels.append(columns[-1])
    ticks = [
        {"value": value, "y": round(top + plot_height - plot_height * value / top_value, 2)}
        for value in sorted({0, top_value // 2 if top_value > 1 else 0, top_value})
    ]
    return {
        "width": width,
        "height": height,
        "columns": columns,
        "labels": labels,
        "ticks": ticks,
        "by_month": by_month,
        "show_values": step >= 18,
        "axis": {"left": left, "right": width - right, "bottom": top + plot_height, "top": top},
        "label_y": top + plot_height + 16,
        "empty_days": sum(1 for column in columns if column["empty"]),
    }


@lru_cache(maxsize=4)
def _outline(path: str) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def country_outline() -> dict[str, Any] | None:
    path = finders.find("vendor/outline.geojson")
    return _outline(path) if path else None


def _rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    if geometry["type"] == "Polygon":
        return list(geometry["coordinates"])
    if geometry["type"] == "MultiPolygon":
        return [ring for polygon in geometry["coordinates"] for ring in polygon]
    return []


def mercator(longitude: float, latitude: float) -> tuple[float, float]:
    """Web Mercator in world units (0–1 across, 0 at the top): the tiles' own projection, so an
    operator's tile layer lines up with the outline and the symbols."""
    latitude = max(min(latitude, 85.05), -85.05)
    sine = math.sin(math.radians(latitude))
    return (longitude + 180) / 360, 0.5 - math.log((1 + sine) / (1 - sine)) / (4 * math.pi)


class Projection:
    """Web Mercator fitted into width × height with a margin."""

    def __init__(self, west: float, south: float, east: float, north: float, width: int, height: int, margin: int):
        self.x0, self.y0 = mercator(west, north)
        x1, y1 = mercator(east, south)
        span_x, span_y = max(x1 - self.x0, 1e-9), max(y1 - self.y0, 1e-9)
        self.width, self.height = width, height
        self.scale = min((width - 2 * margin) / span_x, (height - 2 * margin) / span_y)
        self.dx = (width - span_x * self.scale) / 2
        self.dy = (height - span_y * self.scale) / 2

    def world_to_view(self, x: float, y: float) -> tuple[float, float]:
        return self.dx + (x - self.x0) * self.scale, self.dy + (y - self.y0) * self.scale

    def __call__(self, longitude: float, latitude: float) -> tuple[float, float]:
        x, y = self.world_to_view(*mercator(longitude, latitude))
        return round(x, 1), round(y, 1)

    def tiles(self, template: str, max_tiles: int = 64) -> list[dict[str, Any]]:
        """The map tiles (z/x/y from `template`) covering the view, each placed in view coordinates."""
        if not template:
            return []
        zoom = max(0, min(18, math.floor(math.log2(max(self.scale / 256, 1)))))
        count = 2**zoom
        left, top = self.x0 - self.dx / self.scale, self.y0 - self.dy / self.scale
        right, bottom = left + self.width / self.scale, top + self.height / self.scale
        columns = range(max(0, int(left * count)), min(count - 1, int(right * count)) + 1)
        rows = range(max(0, int(top * count)), min(count - 1, int(bottom * count)) + 1)
        placed = []
        for tile_x in columns:
            for tile_y in rows:
                x, y = self.world_to_view(tile_x / count, tile_y / count)
                size = self.scale / count
                url = template.replace("{z}", str(zoom)).replace("{x}", str(tile_x)).replace("{y}", str(tile_y))
                placed.append({"url": url, "x": round(x, 1), "y": round(y, 1), "size": round(size + 0.5, 1)})
        return placed[:max_tiles]


def proportional_map(
    points: list[dict[str, Any]], width: int = 480, height: int = 420, max_radius: float = 34
) -> dict[str, Any]:
    """The outline path and one circle per point ({latitude, longitude, value, ...}), area ∝ value."""
    outline = country_outline()
    rings = _rings(outline["geometry"]) if outline else []
    coordinates = [pt for ring in rings for pt in ring]
    coordinates += [[float(p["longitude"]), float(p["latitude"])] for p in points]
    if not coordinates:
        return {"width": width, "height": height, "outline": "", "symbols": [], "has_outline": False, "tiles": []}
    west = min(c[0] for c in coordinates)
    east = max(c[0] for c in coordinates)
    south = min(c[1] for c in coordinates)
    north = max(c[1] for c in coordinates)
    project = Projection(west, south, east, north, width, height, margin=12)
    path = " ".join(
        "M" + " L".join(f"{x},{y}" for x, y in (project(lon, lat) for lon, lat in ring)) + " Z" for ring in rings
    )
    largest = max((float(p["value"]) for p in points), default=0)
    symbols = []
    for point in sorted(points, key=lambda p: -float(p["value"])):  # small circles drawn last, on top
        x, y = project(float(point["longitude"]), float(point["latitude"]))
        value = float(point["value"])
        radius = max_radius * math.sqrt(value / largest) if largest and value > 0 else 0
        symbols.append({**point, "x": x, "y": y, "r": round(max(radius, 2.5 if value > 0 else 0), 1)})
    from django.conf import settings

    return {
        "width": width,
        "height": height,
        "outline": path,
        "symbols": symbols,
        "has_outline": bool(rings),
        # Tiles only when an operator configures a tile server (MAP_TILE_URL); none by default.
        "tiles": project.tiles(getattr(settings, "MAP_TILE_URL", "")),
        "tile_attribution": getattr(settings, "MAP_TILE_ATTRIBUTION", ""),
    }

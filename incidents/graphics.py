"""Charts and the map as SVG geometry computed on the server (no chart or map library in the browser).

Presentation only: the figures come from a count snapshot's stored result. The map projects the
country outline (Natural Earth, built into static/vendor/ by `make assets`) and each governorate's
capital with one equirectangular projection scaled for the country's latitude, and draws each
governorate as a circle whose area is proportional to its figure.
"""

from __future__ import annotations

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


def day_columns(rows: list[dict[str, Any]], width: int = 600, height: int = 160) -> dict[str, Any]:
    """A column per day (dates ascending) scaled into a width × height box."""
    rows = sorted(rows, key=lambda row: row.get("date", ""))
    largest = max((int(row.get("total") or 0) for row in rows), default=0)
    step = min(width / max(len(rows), 1), 40)  # a lone day is a column, not a wall
    columns = []
    for index, row in enumerate(rows):
        value = int(row.get("total") or 0)
        column_height = height * value / largest if largest else 0
        columns.append(
            {
                "date": row.get("date", ""),
                "total": value,
                "x": round(index * step + step * 0.1, 2),
                "y": round(height - column_height, 2),
                "width": round(step * 0.8, 2),
                "height": round(column_height, 2),
            }
        )
    return {"width": width, "height": height, "columns": columns}


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


class Projection:
    """Equirectangular, x scaled by cos(middle latitude), fitted into width × height with a margin."""

    def __init__(self, west: float, south: float, east: float, north: float, width: int, height: int, margin: int):
        self.west, self.north = west, north
        self.kx = math.cos(math.radians((south + north) / 2))
        span_x = max((east - west) * self.kx, 1e-6)
        span_y = max(north - south, 1e-6)
        self.scale = min((width - 2 * margin) / span_x, (height - 2 * margin) / span_y)
        self.dx = (width - span_x * self.scale) / 2
        self.dy = (height - span_y * self.scale) / 2

    def __call__(self, longitude: float, latitude: float) -> tuple[float, float]:
        x = self.dx + (longitude - self.west) * self.kx * self.scale
        y = self.dy + (self.north - latitude) * self.scale
        return round(x, 1), round(y, 1)


def proportional_map(
    points: list[dict[str, Any]], width: int = 480, height: int = 420, max_radius: float = 34
) -> dict[str, Any]:
    """The outline path and one circle per point ({latitude, longitude, value, ...}), area ∝ value."""
    outline = country_outline()
    rings = _rings(outline["geometry"]) if outline else []
    coordinates = [pt for ring in rings for pt in ring]
    coordinates += [[float(p["longitude"]), float(p["latitude"])] for p in points]
    if not coordinates:
        return {"width": width, "height": height, "outline": "", "symbols": [], "has_outline": False}
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
    return {"width": width, "height": height, "outline": path, "symbols": symbols, "has_outline": bool(rings)}

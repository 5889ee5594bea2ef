"""The public map's geometry: outline and symbols from local data; tiles only when configured."""

from __future__ import annotations

import math

from counts import graphics


def test_symbols_sit_at_their_coordinates_with_area_proportional_to_the_figure(settings, map_outline):
    settings.MAP_TILE_URL = ""
    drawn = graphics.proportional_map(
        [
            {"label": "Idlib", "latitude": 35.9306, "longitude": 36.6339, "value": 100},
            {"label": "Daraa", "latitude": 32.6189, "longitude": 36.1021, "value": 25},
        ]
    )
    assert drawn["has_outline"] and drawn["outline"].startswith("M")
    assert drawn["tiles"] == []
    idlib, daraa = drawn["symbols"]
    assert math.isclose((idlib["r"] / daraa["r"]) ** 2, 4, rel_tol=0.02)  # area, not radius, is proportional
    assert idlib["y"] < daraa["y"]  # north is up
    assert abs(idlib["x"] - daraa["x"]) < 40  # nearly the same longitude


def test_tiles_appear_only_when_an_operator_configures_them_and_line_up(settings):
    settings.MAP_TILE_URL = "https://tiles.example.org/{z}/{x}/{y}.png"
    drawn = graphics.proportional_map([{"label": "Idlib", "latitude": 35.9306, "longitude": 36.6339, "value": 3}])
    assert 0 < len(drawn["tiles"]) <= 64
    zoom = int(drawn["tiles"][0]["url"].split("/")[3])
    # Idlib's tile at that zoom is among those drawn, under the symbol.
    x, y = graphics.mercator(36.6339, 35.9306)
    tile = f"https://tiles.example.org/{zoom}/{int(x * 2**zoom)}/{int(y * 2**zoom)}.png"
    placed = next(t for t in drawn["tiles"] if t["url"] == tile)
    symbol = drawn["symbols"][0]
    assert placed["x"] <= symbol["x"] <= placed["x"] + placed["size"]
    assert placed["y"] <= symbol["y"] <= placed["y"] + placed["size"]

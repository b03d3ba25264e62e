"""An area's outline from an uploaded file: GeoJSON (RFC 7946) or KML, kept as a GeoJSON
Polygon or MultiPolygon geometry in longitude, latitude order."""

from __future__ import annotations

import json
import warnings
from typing import Any
from xml.etree.ElementTree import ParseError

from pygeoif.factories import shape

with warnings.catch_warnings():
    # fastkml warns that lxml is missing: it only pretty-prints with it.
    warnings.simplefilter("ignore")
    from fastkml import KML, Placemark
    from fastkml.utils import find_all

MAX_BYTES = 2_000_000
MAX_POINTS = 50_000


class OutlineError(ValueError):
    """The file is not an outline we can use; the message says why, for the person."""


def parse_outline(name: str, data: bytes) -> dict[str, Any]:
    if len(data) > MAX_BYTES:
        raise OutlineError(f"The file is larger than {MAX_BYTES // 1_000_000} MB.")
    lower = name.lower()
    if lower.endswith(".kml"):
        polygons = _from_kml(data)
    elif lower.endswith((".geojson", ".json")):
        polygons = _from_geojson(data)
    else:
        raise OutlineError("Upload a GeoJSON (.geojson, .json) or KML (.kml) file.")
    if not polygons:
        raise OutlineError("The file holds no polygon: draw the area's outline as a polygon.")
    for polygon in polygons:
        _check_polygon(polygon)
    if sum(len(ring) for polygon in polygons for ring in polygon) > MAX_POINTS:
        raise OutlineError(f"The outline has more than {MAX_POINTS} points: simplify it.")
    if len(polygons) == 1:
        return {"type": "Polygon", "coordinates": polygons[0]}
    return {"type": "MultiPolygon", "coordinates": polygons}


def _polygons(geometry: dict[str, Any]) -> list[list[list[list[float]]]]:
    """The polygons of a geometry (as lists of rings of [lon, lat]); others are skipped."""
    kind = geometry.get("type")
    if kind == "GeometryCollection":
        return [p for g in geometry.get("geometries") or [] for p in _polygons(g)]
    if kind not in {"Polygon", "MultiPolygon"}:
        return []
    try:
        geo: dict[str, Any] = dict(shape(geometry).__geo_interface__)  # type: ignore[arg-type]
    except (TypeError, ValueError, KeyError, IndexError) as exc:
        raise OutlineError(f"A {kind} in the file is not well formed ({exc}).") from exc
    coords = geo["coordinates"]
    polygons = [coords] if geo["type"] == "Polygon" else list(coords)
    return [[[[float(v) for v in pt[:2]] for pt in ring] for ring in poly] for poly in polygons]


def _from_geojson(data: bytes) -> list[list[list[list[float]]]]:
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OutlineError(f"The file is not JSON ({exc}).") from exc
    if not isinstance(doc, dict):
        raise OutlineError("The file is not a GeoJSON object.")
    kind = doc.get("type")
    if kind == "FeatureCollection":
        features = doc.get("features")
        if not isinstance(features, list):
            raise OutlineError("The FeatureCollection has no list of features.")
        geometries = [f.get("geometry") for f in features if isinstance(f, dict)]
    elif kind == "Feature":
        geometries = [doc.get("geometry")]
    elif isinstance(kind, str):
        geometries = [doc]
    else:
        raise OutlineError("The file is not GeoJSON: it has no 'type'.")
    return [p for g in geometries if isinstance(g, dict) for p in _polygons(g)]


def _from_kml(data: bytes) -> list[list[list[list[float]]]]:
    try:
        # Bytes, not text: the XML declaration names its own encoding.
        kml = KML.from_string(data)  # type: ignore[arg-type]
    except (ParseError, ValueError, TypeError) as exc:
        raise OutlineError(f"The file is not KML ({exc}).") from exc
    polygons = []
    for placemark in find_all(kml, of_type=Placemark):
        geometry = getattr(placemark, "geometry", None)
        if geometry is not None:
            polygons += _polygons(dict(geometry.__geo_interface__))
    return polygons


def _check_polygon(polygon: list[list[list[float]]]) -> None:
    for ring in polygon:
        if len(ring) < 4 or ring[0] != ring[-1]:
            raise OutlineError("Each ring of the outline needs four points or more, closed.")
        for lon, lat in ring:
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise OutlineError(
                    f"The point {lon}, {lat} is not a longitude and latitude (WGS 84)."
                )


def leaflet_rings(outline: dict[str, Any] | None) -> list[list[list[float]]]:
    """The outline's outer rings as [latitude, longitude] points, for the map."""
    if not outline:
        return []
    coords = outline.get("coordinates") or []
    polygons = [coords] if outline.get("type") == "Polygon" else coords
    return [[[pt[1], pt[0]] for pt in poly[0]] for poly in polygons if poly]

"""Teams, areas (an outline from GeoJSON or KML, shown on the map) and the force's
settings: administrators only, audited, another force's team or area a 404, bad input named."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from beatdesk.accounts.models import Area, Force, Team, User
from beatdesk.administration.outlines import OutlineError, parse_outline
from beatdesk.audit.models import AuditEvent
from beatdesk.testing.fixtures import signed_in

pytestmark = pytest.mark.django_db

RING = [[-1.95, 52.47], [-1.9, 52.47], [-1.9, 52.5], [-1.95, 52.5], [-1.95, 52.47]]
GEOJSON = json.dumps(
    {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "Polygon", "coordinates": [RING]},
            }
        ],
    }
)
KML = f"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>Ladywood</name>
<Polygon><outerBoundaryIs><LinearRing><coordinates>
{" ".join(f"{x},{y},0" for x, y in RING)}
</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark></Document></kml>"""


def events(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()


@pytest.fixture
def admin(users: dict[str, User]) -> Client:
    return signed_in(users["admin"])


@pytest.mark.parametrize(("name", "body"), [("area.geojson", GEOJSON), ("area.kml", KML)])
def test_an_outline_is_read_from_geojson_or_kml(name: str, body: str) -> None:
    outline = parse_outline(name, body.encode())
    assert outline["type"] == "Polygon"
    assert outline["coordinates"][0] == RING


@pytest.mark.parametrize(
    ("name", "body", "said"),
    [
        ("a.geojson", "{not json", "not JSON"),
        ("a.geojson", json.dumps({"type": "Point", "coordinates": [0, 0]}), "no polygon"),
        (
            "a.geojson",
            json.dumps({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0]]]}),
            "four points",
        ),
        (
            "a.geojson",
            json.dumps({"type": "Polygon", "coordinates": [[[0, 0], [500, 0], [1, 1], [0, 0]]]}),
            "not a longitude",
        ),
        ("a.kml", "<kml>unclosed", "not KML"),
        ("a.shp", "x", "GeoJSON"),
    ],
)
def test_a_bad_outline_is_named(name: str, body: str, said: str) -> None:
    with pytest.raises(OutlineError, match=said):
        parse_outline(name, body.encode())


def test_an_area_is_created_with_its_outline_and_drawn_on_the_map(admin: Client) -> None:
    data = {
        "name": "Ladywood",
        "slug": "ladywood",
        "postcode_districts": "b16, B1 ",
        "place_names": "Ladywood\nBrindleyplace",
        "outline_file": SimpleUploadedFile("ladywood.kml", KML.encode()),
    }
    answer = admin.post("/administration/areas/new/", data)
    assert answer.status_code == 302
    area = Area.objects.get(slug="ladywood")
    assert area.postcode_districts == ["B16", "B1"]
    assert area.place_names == ["Ladywood", "Brindleyplace"]
    assert area.outline and area.outline["type"] == "Polygon"
    assert events("area.created") == 1
    page = admin.get(f"/administration/areas/{area.pk}/")
    assert b'id="area-map"' in page.content and b"area_map.js" in page.content
    # Saving again without a file keeps the outline.
    again = {k: v for k, v in data.items() if k != "outline_file"}
    assert admin.post(f"/administration/areas/{area.pk}/", again).status_code == 302
    area.refresh_from_db()
    assert area.outline is not None and events("area.changed") == 1


def test_bad_area_input_is_named_and_nothing_saved(admin: Client) -> None:
    data = {
        "name": "Nowhere",
        "slug": "nowhere",
        "postcode_districts": "not a district",
        "outline_file": SimpleUploadedFile("n.geojson", b"{}"),
    }
    answer = admin.post("/administration/areas/new/", data)
    assert answer.status_code == 400 and b"Not a postcode district" in answer.content
    data["postcode_districts"] = "B16"
    data["outline_file"] = SimpleUploadedFile("n.geojson", b"[1, 2]")
    answer = admin.post("/administration/areas/new/", data)
    assert answer.status_code == 400 and b"not a GeoJSON object" in answer.content
    assert not Area.objects.filter(slug="nowhere").exists() and events("area.created") == 0


def test_teams_are_created_and_edited(admin: Client, force: Force) -> None:
    area = Area.objects.filter(force=force).first()
    assert area is not None
    data = {"name": "Rural team", "slug": "rural", "kind": "neighbourhood", "area": area.pk}
    assert admin.post("/administration/teams/new/", data).status_code == 302
    team = Team.objects.get(force=force, slug="rural")
    assert team.area == area and events("team.created") == 1
    data["name"] = "Rural NPT"
    assert admin.post(f"/administration/teams/{team.pk}/", data).status_code == 302
    team.refresh_from_db()
    assert team.name == "Rural NPT" and events("team.changed") == 1
    clash = admin.post("/administration/teams/new/", {**data, "name": "Copy"})
    assert clash.status_code == 400 and b"short name" in clash.content
    assert b"Rural NPT" in admin.get("/administration/teams/").content


def test_another_forces_team_and_area_are_404(admin: Client) -> None:
    other = Force.objects.create(name="Eastholm Police", slug="eastholm")
    area = Area.objects.create(force=other, name="Harbour", slug="harbour")
    team = Team.objects.create(force=other, name="Harbour NPT", slug="harbour", kind="other")
    assert admin.get(f"/administration/areas/{area.pk}/").status_code == 404
    assert admin.post(f"/administration/teams/{team.pk}/", {"name": "x"}).status_code == 404
    # And its area cannot be given to one of our teams.
    data = {"name": "T", "slug": "t", "kind": "other", "area": area.pk}
    assert admin.post("/administration/teams/new/", data).status_code == 400


def test_other_roles_are_refused(users: dict[str, User]) -> None:
    analyst = signed_in(users["alex.analyst"])
    before = events("access.refused")
    assert analyst.get("/administration/teams/").status_code == 403
    assert analyst.post("/administration/areas/new/", {"name": "x"}).status_code == 403
    assert events("access.refused") == before + 2


def test_force_settings_are_saved_and_audited(admin: Client, force: Force) -> None:
    page = admin.get("/administration/force/")
    assert reverse("inbox:targets").encode() in page.content
    data = {
        "name": force.name,
        "non_emergency_number": "101",
        "online_reporting_url": "",
        "emergency_reply": "send",
        "emergency_reply_text": "Call 999 now if someone is in danger.",
        "banned_words": "badword",
        "charged_names": "John Doe",
    }
    assert admin.post("/administration/force/", data).status_code == 302
    force.refresh_from_db()
    assert force.emergency_reply == "send" and force.charged_names == "John Doe"
    event = AuditEvent.objects.get(action="force.settings_changed")
    assert event.actor_id == User.objects.get(username="admin").pk
    bad = admin.post("/administration/force/", {**data, "emergency_reply": "shout"})
    assert bad.status_code == 400

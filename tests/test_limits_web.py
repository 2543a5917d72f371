"""The dashboard's limits section (issue 25): usage against limits as bars on the workspace
page, the form an organisation-wide key sets them with (a restricted key sees no form and may
not post it), and a refused write shown as a clear message, not an error page."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from cubby.services import Services
from tests.helpers import Api
from tests.test_web_pages import csrf_of, restricted_key, sign_in


def test_limits_section_bars_and_form(client: TestClient, api: Api, org_key: str) -> None:
    ws = api.create_workspace("web-limits")
    wi = api.add_integration(ws, "kv-store", "kv", {"persistence": {"scope": "workspace"}})
    api.output("kv-store", "put", ws, {"key": "a", "value": "x" * 98})
    csrf = sign_in(client, org_key)
    page = client.get(f"/ui/workspaces/{ws}").text
    assert 'id="limits"' in page and "Save limits" in page
    assert "<meter" not in page  # no limits yet: nothing to draw against

    form = {"csrf": csrf, "maxKeys": "1", "maxBytes": "1000", "perEndUser.maxFiles": "5",
            "requestsPerSecond": "20", "burst": ""}  # fmt: skip
    saved = client.post(f"/ui/workspaces/{ws}/limits", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:300]
    assert api.ok("GET", f"/api/v1/workspaces/{ws}/limits")["limits"] == {
        "maxBytes": 1000, "maxFiles": None, "maxKeys": 1, "maxItems": None,
        "perEndUser": {"maxBytes": None, "maxFiles": 5, "maxKeys": None, "maxItems": None},
        "requestsPerSecond": 20.0, "burst": None,
    }  # fmt: skip
    page = client.get(f"/ui/workspaces/{ws}").text
    assert re.search(r'<meter min="0" max="1"[^>]*value="1"', page)
    assert re.search(r'<meter min="0" max="1000"[^>]*value="100"', page)
    assert "20.0 requests per second" in page

    bad = client.post(f"/ui/workspaces/{ws}/limits", data={**form, "maxKeys": "lots"})
    assert bad.status_code == 400 and "maxKeys" in bad.text

    # a write past the limit from the dashboard's key editor: the refusal's message, no 500
    refused = client.post(
        f"/ui/workspaces/{ws}/integrations/{wi['id']}/keys/save",
        data={"csrf": csrf_of(page), "key": "b", "value": "1"},
    )
    assert refused.status_code == 403, refused.text[:300]
    assert "past the limit of 1; nothing was written" in refused.text


def test_restricted_key_sees_usage_but_cannot_set_limits(
    client: TestClient, api: Api, services: Services
) -> None:
    ws = api.create_workspace("web-limits-restricted")
    csrf = sign_in(client, restricted_key(services, ws))
    page = client.get(f"/ui/workspaces/{ws}").text
    assert 'id="limits"' in page and "Save limits" not in page
    refused = client.post(f"/ui/workspaces/{ws}/limits", data={"csrf": csrf, "maxKeys": "1"})
    assert refused.status_code == 403
    assert api.ok("GET", f"/api/v1/workspaces/{ws}/limits")["limits"]["maxKeys"] is None

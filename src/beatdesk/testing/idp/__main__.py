"""Run the loopback OpenID provider: python -m beatdesk.testing.idp CONFIG.json

CONFIG names the port, the home folder, the one client (the desk under test) and the users:
{"port": 8123, "home": "/tmp/idp", "client": {"id": "…", "secret": "…", "redirect_uri": "…"},
 "users": [{"username": "…", "password": "…", "email": "…", "groups": ["…"],
            "mfa": true, "active": true}]}
It migrates a fresh SQLite database, makes its signing key, the client and the users, then
serves on 127.0.0.1 until stopped. A user is disabled as at any provider: is_active off in
its database (the tests do that with sqlite3).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def main(config_path: str) -> None:
    config = json.loads(Path(config_path).read_text())
    os.environ["BEATDESK_IDP_HOME"] = config["home"]
    os.environ["BEATDESK_IDP_URL"] = f"http://127.0.0.1:{config['port']}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "beatdesk.testing.idp.settings"
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application
    from oidc_provider.models import Client, ResponseType
    from waitress import serve

    from beatdesk.testing.idp.hooks import MFA_GROUP  # local import: after django.setup()

    call_command("migrate", verbosity=0)
    call_command("creatersakey", stdout=open(os.devnull, "w"))  # noqa: SIM115
    given = config["client"]
    client = Client.objects.create(
        name="beatdesk",
        client_type="confidential",
        client_id=given["id"],
        client_secret=given["secret"],
        jwt_alg="RS256",
        require_consent=False,
        reuse_consent=False,
        redirect_uris=[given["redirect_uri"]],
        scope=["openid", "email", "profile"],
    )
    client.response_types.add(ResponseType.objects.get(value="code"))
    for spec in config["users"]:
        user = User.objects.create_user(
            spec["username"],
            email=spec.get("email", ""),
            password=spec["password"],
            is_active=spec.get("active", True),
        )
        names = [*spec.get("groups", []), *([MFA_GROUP] if spec.get("mfa") else [])]
        user.groups.set([Group.objects.get_or_create(name=n)[0] for n in names])
    print(f"identity provider ready on {os.environ['BEATDESK_IDP_URL']}", flush=True)
    serve(
        get_wsgi_application(),
        host="127.0.0.1",
        port=config["port"],
        threads=4,
        _quiet=True,
    )


if __name__ == "__main__":
    main(sys.argv[1])

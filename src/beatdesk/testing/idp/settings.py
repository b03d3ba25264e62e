"""A real OpenID provider for the single sign-on tests: django-oidc-provider in a Django
project of its own, run as a separate process on loopback (see __main__.py).

Its cookies have names of their own: it shares the host 127.0.0.1 with the desk under test,
and browsers keep cookies by host, not by port.
"""

from __future__ import annotations

import os
from pathlib import Path

HOME = Path(os.environ["BEATDESK_IDP_HOME"])
SITE_URL = os.environ["BEATDESK_IDP_URL"]
SECRET_KEY = os.environ.get("BEATDESK_IDP_SECRET", "loopback-identity-provider-for-tests-only")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "oidc_provider",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "beatdesk.testing.idp.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [Path(__file__).resolve().parent / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
            ]
        },
    }
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(HOME / "idp.sqlite3")}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # test users only
USE_TZ = True
LOGIN_URL = "/login/"
SESSION_COOKIE_NAME = "idp_sessionid"
CSRF_COOKIE_NAME = "idp_csrftoken"

# The ID token carries the user's groups and how they signed in (amr), as Entra ID's does
# when the app registration asks for them.
OIDC_IDTOKEN_INCLUDE_CLAIMS = True
OIDC_IDTOKEN_PROCESSING_HOOK = "beatdesk.testing.idp.hooks.id_token"
OIDC_IDTOKEN_EXPIRE = 600

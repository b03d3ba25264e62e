from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from beatdesk.core.views import favicon
from beatdesk.operations.health import report
from beatdesk.operations.metrics import metrics


def healthz(request: HttpRequest) -> JsonResponse:
    answer = report()
    return JsonResponse(answer, status=200 if answer["ok"] else 503)


urlpatterns = [
    path("accounts/", include("beatdesk.accounts.urls")),
    path("audit/", include("beatdesk.audit.urls")),
    path("administration/", include("beatdesk.administration.urls")),
    path("triage/", include("beatdesk.triage.urls")),
    path("networks/", include("beatdesk.operations.urls")),
    path("publishing/", include("beatdesk.publishing.urls")),
    path("cases/", include("beatdesk.cases.urls")),
    path("monitoring/", include("beatdesk.monitoring.urls")),
    path("stories/", include("beatdesk.stories.urls")),
    path("live/", include("beatdesk.live.urls")),
    path("public/", include("beatdesk.publishing.urls_feeds")),
    path("", include("beatdesk.sso.urls")),
    path("healthz", healthz),
    path("metrics", metrics),
    path("favicon.ico", favicon, name="favicon"),
    path("", include("beatdesk.networks.urls_public")),
    path("", include("beatdesk.inbox.urls")),
]

handler403 = "beatdesk.core.views.forbidden"
handler404 = "beatdesk.core.views.not_found"
handler500 = "beatdesk.core.views.server_error"

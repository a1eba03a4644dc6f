"""The server-error handler (`handler500`): a database that cannot be reached is a 503, not a 500.

While PostgreSQL restarts (or fails over), every request that touches it raises OperationalError or
InterfaceError, wherever it happens: in the session or tenant middleware, in a view, in the API. Django turns any
of them into the handler500 view; this one answers those with 503 Service Unavailable and `Retry-After`: a small
page that needs no database (no layout, no context processors) or, under /api/, a JSON body like the API's other
errors. Anything else stays Django's 500. A persistent connection that died is replaced at the next request
(CONN_HEALTH_CHECKS), so the app recovers by itself once the database is back.
"""

from __future__ import annotations

import logging
import sys

from django import db
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults

logger = logging.getLogger(__name__)

DATABASE_UNAVAILABLE = (db.OperationalError, db.InterfaceError)
RETRY_AFTER_SECONDS = 5


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: JSON under /api/, else the stand-alone 503 page."""
    message = _("The service is briefly unavailable. Please try again in a few seconds.")
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=503)
    else:
        # "Try again" reloads this page; a path like //host would leave the site.
        again = request.path if not request.path.startswith("//") else "/"
        body = loader.get_template("503.html").render({"message": message, "request_path": again})
        response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: called by Django while the exception is being handled (sys.exc_info() is it)."""
    exc = sys.exc_info()[1]
    if isinstance(exc, DATABASE_UNAVAILABLE):
        return database_unavailable(request)
    return defaults.server_error(request)

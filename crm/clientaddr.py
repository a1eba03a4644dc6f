"""The client's address, as far as this deployment can trust it.

`X-Forwarded-For` is a header any client can send: an address taken from it as is lets a caller pick a new
address per request and walk around every per-address limit (the token throttle, the login lock-out). Only the
hops added by our own proxies are trustworthy, so settings.TRUSTED_PROXY_COUNT says how many proxies stand in
front of the app (0, the default: none, use the socket's REMOTE_ADDR; docker compose behind its TLS proxy: 1).
With N proxies the client is the N-th address from the right of X-Forwarded-For: each proxy appends the address
it received the request from, and whatever the client wrote itself is further left, where it is ignored.

DRF's throttles read the same count as REST_FRAMEWORK["NUM_PROXIES"] (set from it in settings) and django-axes
calls `client_ip` (AXES_CLIENT_IP_CALLABLE), so the token throttle and the login lock-out agree on the address.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    remote_addr = request.META.get("REMOTE_ADDR", "") or ""
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not forwarded:
        return remote_addr
    hops = [hop.strip() for hop in forwarded.split(",")]
    return hops[-min(proxies, len(hops))] or remote_addr

"""The request an audited change happens in (for the client's address)."""

from contextvars import ContextVar

from django.conf import settings

current_ip: ContextVar[str | None] = ContextVar("audit_current_ip", default=None)


def client_ip(request) -> str | None:
    # Behind the reverse proxy (TRUST_X_REAL_IP, on in production) REMOTE_ADDR is the proxy,
    # which sets X-Real-IP; reached directly, that header is the client's to forge.
    if settings.TRUST_X_REAL_IP and request.META.get("HTTP_X_REAL_IP"):
        return request.META["HTTP_X_REAL_IP"]
    return request.META.get("REMOTE_ADDR") or None

"""The request an audited change happens in (for the client's address)."""

from contextvars import ContextVar

current_ip: ContextVar[str | None] = ContextVar("audit_current_ip", default=None)


def client_ip(request) -> str | None:
    # Behind the reverse proxy the product is designed for, REMOTE_ADDR is the proxy; the
    # proxy is configured to set X-Real-IP. Nothing else from the client is trusted.
    return request.META.get("HTTP_X_REAL_IP") or request.META.get("REMOTE_ADDR") or None

"""Recording audit events. Call inside the transaction of the change being recorded."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

from django.db import models

from .context import current_ip
from .models import AuditEvent


def _jsonable(value):
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return value


def snapshot(instance: models.Model, fields: list[str] | None = None) -> dict:
    """The concrete field values of ``instance`` as JSON-ready data."""
    data = {}
    for field in instance._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        data[field.name] = _jsonable(getattr(instance, field.attname))
    return data


def record(
    action: str,
    *,
    actor=None,
    instance: models.Model | None = None,
    organization=None,
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
    actor_name: str = "",
    ip_address: str | None = None,
) -> AuditEvent:
    """Append one event. ``organization`` (or ``instance`` if it is one) scopes who may read it."""
    if organization is None and instance is not None:
        organization = getattr(instance, "organization", None)
        if organization is None and hasattr(instance, "path") and hasattr(instance, "depth"):
            organization = instance
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEvent.objects.create(
        actor=actor if authenticated else None,
        actor_name=actor_name or (actor.get_username() if authenticated else ""),
        ip_address=ip_address or current_ip.get(),
        action=action,
        object_type=instance._meta.label_lower if instance is not None else "",
        object_id=str(instance.pk) if instance is not None and instance.pk is not None else "",
        object_repr=str(instance)[:200] if instance is not None else "",
        organization_path=organization.path if organization is not None else "",
        before=before,
        after=after,
        reason=reason[:300],
    )

"""The parts of a member's record kept as lists: party posts, rewards and punishments, family,
hardship, going abroad. One generic add/remove, audited, for all five."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dangjian.accounts.roles import Perm
from dangjian.audit.models import AuditAction
from dangjian.audit.services import record, snapshot
from dangjian.organizations.services import require

from .models import FamilyMember, Hardship, Member, PartyPost, RewardOrPunishment, TravelAbroad


@dataclass(frozen=True)
class RecordKind:
    key: str
    title: str
    model: type[models.Model]
    fields: tuple[str, ...]


KINDS = {
    kind.key: kind
    for kind in [
        RecordKind(
            "posts",
            gettext_lazy("党内职务"),
            PartyPost,
            ("organization_name", "post", "started_on", "ended_on"),
        ),
        RecordKind(
            "rewards",
            gettext_lazy("奖惩情况"),
            RewardOrPunishment,
            ("kind", "title", "decided_on", "decided_by", "under_probation_until"),
        ),
        RecordKind(
            "family",
            gettext_lazy("家庭成员"),
            FamilyMember,
            ("relation", "name", "work_unit", "political_status"),
        ),
        RecordKind(
            "hardships",
            gettext_lazy("困难情况"),
            Hardship,
            ("kind", "since", "note", "resolved_on"),
        ),
        RecordKind(
            "travels",
            gettext_lazy("出国（境）情况"),
            TravelAbroad,
            ("destination", "reason", "left_on", "returned_on"),
        ),
    ]
}
RELATED_NAMES = {
    "posts": "party_posts",
    "rewards": "rewards",
    "family": "family",
    "hardships": "hardships",
    "travels": "travels",
}


def form_class(kind: RecordKind) -> type[forms.ModelForm]:
    date_fields = [f.name for f in kind.model._meta.fields if isinstance(f, models.DateField)]
    return forms.modelform_factory(
        kind.model,
        fields=kind.fields,
        widgets={name: forms.DateInput(attrs={"type": "date"}) for name in date_fields},
    )


def sections(member: Member) -> list[tuple[RecordKind, list, list[str]]]:
    """Each kind with its rows and the labels of its columns, for the member page."""
    result = []
    for key, kind in KINDS.items():
        labels = [str(kind.model._meta.get_field(f).verbose_name) for f in kind.fields]
        rows = [(row.pk, cells(row, kind)) for row in getattr(member, RELATED_NAMES[key]).all()]
        result.append((kind, rows, labels))
    return result


def cells(row, kind: RecordKind) -> list:
    values = []
    for name in kind.fields:
        display = getattr(row, f"get_{name}_display", None)
        values.append(display() if display else getattr(row, name))
    return values


def _require(actor, member: Member) -> None:
    require(actor, Perm.MANAGE_MEMBERS, member.organization, _("您无权修改该党员的信息。"))


@transaction.atomic
def add(actor, member: Member, kind: RecordKind, data: dict):
    _require(actor, member)
    row = kind.model(member=member, **data)
    row.full_clean()
    row.save()
    record(
        AuditAction.CREATE,
        actor=actor,
        instance=member,
        organization=member.organization,
        after={str(kind.title): snapshot(row, list(kind.fields))},
        reason=_("增加%(kind)s") % {"kind": kind.title},
    )
    return row


@transaction.atomic
def remove(actor, member: Member, kind: RecordKind, row_id: int) -> None:
    _require(actor, member)
    row = kind.model.objects.get(pk=row_id, member=member)
    record(
        AuditAction.DELETE,
        actor=actor,
        instance=member,
        organization=member.organization,
        before={str(kind.title): snapshot(row, list(kind.fields))},
        reason=_("删除%(kind)s") % {"kind": kind.title},
    )
    row.delete()

"""The two templates shipped with the product: a branch's half-year summary and a
committee's annual grassroots party-building report (texts in ``reports/shipped/``)."""

from pathlib import Path

from django.db import migrations

SHIPPED = Path(__file__).resolve().parent.parent / "shipped"
TEMPLATES = [
    (
        "党支部半年工作总结",
        "党支部每半年向上级党组织报送的工作总结：党员队伍、组织生活、发展党员、党费和存在的问题。",
        "h1",
        "branch_half_year.txt",
    ),
    (
        "党委年度基层党建工作报告",
        "党委（党工委）年度基层党建工作报告：组织设置与覆盖、党员队伍、组织生活、党费和问题。",
        "year",
        "committee_annual.txt",
    ),
]


def ship(apps, schema_editor):
    ReportTemplate = apps.get_model("reports", "ReportTemplate")
    for name, description, part, filename in TEMPLATES:
        body = (SHIPPED / filename).read_text(encoding="utf-8")
        ReportTemplate.objects.get_or_create(
            name=name,
            organization=None,
            defaults={"description": description, "default_part": part, "body": body},
        )


def unship(apps, schema_editor):
    ReportTemplate = apps.get_model("reports", "ReportTemplate")
    ReportTemplate.objects.filter(
        organization=None, name__in=[t[0] for t in TEMPLATES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial")]

    operations = [migrations.RunPython(ship, unship)]

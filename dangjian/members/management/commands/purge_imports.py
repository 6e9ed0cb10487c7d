"""``manage.py purge_imports``: forget uploaded rosters that were never applied.

An uploaded workbook holds ID numbers in clear until it is applied (then it is cleared).
Run daily (cron or a scheduler) so abandoned uploads do not keep them.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from dangjian.members.models import ImportBatch


class Command(BaseCommand):
    help = "删除超过保留天数仍未导入的名册上传文件（其中含明文身份证号）。"

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=7, help="保留天数，默认 7")

    def handle(self, *args, days, **options):
        cutoff = timezone.now() - timedelta(days=days)
        stale = ImportBatch.objects.exclude(status=ImportBatch.Status.APPLIED).filter(
            updated_at__lt=cutoff
        )
        count, _ = stale.delete()
        self.stdout.write(f"已删除 {count} 个超过 {days} 天未导入的上传文件。")

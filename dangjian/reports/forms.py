from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .drafts import unknown_placeholders
from .models import ReportTemplate
from .periods import PARTS
from .statistics import catalogue


class TemplateForm(forms.ModelForm):
    class Meta:
        model = ReportTemplate
        fields = ["name", "description", "default_part", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 24})}

    def clean_body(self):
        body = self.cleaned_data["body"]
        unknown = unknown_placeholders(body, catalogue(timezone.localdate()))
        if unknown:
            raise forms.ValidationError(
                _("以下占位符没有对应的统计数：%(names)s。请从右侧列表中选用。")
                % {"names": "、".join("{" + n + "}" for n in unknown)}
            )
        if not body.strip():
            raise forms.ValidationError(_("模板正文不能为空。"))
        return body


class DraftForm(forms.Form):
    template = forms.ModelChoiceField(
        label=gettext_lazy("报告模板"),
        queryset=ReportTemplate.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": gettext_lazy("请选择可用的报告模板。")},
    )
    year = forms.IntegerField(label=gettext_lazy("年度"), min_value=2000)
    part = forms.ChoiceField(
        label=gettext_lazy("统计期"), choices=[(k, v[0]) for k, v in PARTS.items()]
    )

    def __init__(self, *args, templates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = templates

    def clean_year(self):
        year = self.cleaned_data["year"]
        if year > timezone.localdate().year:
            raise forms.ValidationError(_("统计年度不能晚于今年。"))
        return year

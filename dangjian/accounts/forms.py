from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from dangjian.organizations.forms import OrganizationPicker

from .roles import Role


class OTPTokenForm(forms.Form):
    token = forms.RegexField(
        label=_("动态验证码"),
        regex=r"^\d{6}$",
        error_messages={"invalid": _("请输入 6 位数字验证码。")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class GrantForm(forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150)
    full_name = forms.CharField(label=_("姓名（新用户）"), max_length=60, required=False)
    password = forms.CharField(
        label=_("初始密码（新用户）"), required=False, widget=forms.PasswordInput
    )
    organization = OrganizationPicker(label=_("授权组织"))
    role = forms.ChoiceField(label=_("角色"), choices=Role.choices)

    def __init__(self, *args, scope=None, roles=None, **kwargs):
        super().__init__(*args, **kwargs)
        if scope is not None:
            self.fields["organization"].queryset = scope
        if roles is not None:
            self.fields["role"].choices = [c for c in Role.choices if c[0] in roles]

    def existing_user(self):
        return get_user_model().objects.filter(username=self.cleaned_data["username"]).first()

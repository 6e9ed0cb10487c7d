from django import template

from dangjian.reports.tables import display

register = template.Library()


@register.filter
def figure(value) -> str:
    """A figure written as the statistics page, Excel and report drafts write it."""
    return display(value)

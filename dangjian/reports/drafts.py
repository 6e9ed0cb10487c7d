"""Report drafts: a template's text with every ``{name}`` replaced by the figure of that name
for an organization and period, written as a .docx a clerk finishes in a word processor.

The figures are :func:`dangjian.reports.statistics.figures`, the same values, written the
same way, as the statistics page shows for the same scope and period.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from dangjian.organizations.models import Organization

from .periods import Period
from .statistics import figures

PLACEHOLDER = re.compile(r"\{([^{}\s]+)\}")
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
TITLE_FONT = "方正小标宋简体"


def placeholders(body: str) -> list[str]:
    return PLACEHOLDER.findall(body)


def unknown_placeholders(body: str, known) -> list[str]:
    """The placeholders of ``body`` that name no figure, each once, in order."""
    seen = []
    for name in placeholders(body):
        if name not in known and name not in seen:
            seen.append(name)
    return seen


def fill(body: str, values: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), body)


@dataclass(frozen=True)
class Block:
    kind: str  # "title", "heading" or "paragraph"
    text: str


def blocks(text: str) -> list[Block]:
    """The filled text as title, headings and paragraphs (blank lines separate nothing more
    than paragraphs: each non-blank line is one)."""
    result = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("## "):
            result.append(Block("heading", line[3:].strip()))
        elif line.startswith("# "):
            result.append(Block("title", line[2:].strip()))
        else:
            result.append(Block("paragraph", line))
    return result


def _font(run, name: str, size: float, bold: bool = False) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    # Word takes Chinese text's font from the East Asian slot, not from w:ascii.
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)


def render_docx(text: str) -> bytes:
    """The filled text as a .docx in the usual layout of a Party document: title in 小标宋
    centred, headings in 黑体, body in 仿宋 with a two-character first-line indent."""
    document = Document()
    for block in blocks(text):
        paragraph = document.add_paragraph()
        run = paragraph.add_run(block.text)
        if block.kind == "title":
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _font(run, TITLE_FONT, 22)
        elif block.kind == "heading":
            paragraph.paragraph_format.first_line_indent = Pt(32)
            _font(run, HEADING_FONT, 16)
        else:
            paragraph.paragraph_format.first_line_indent = Pt(32)
            paragraph.paragraph_format.line_spacing = Pt(28)
            _font(run, BODY_FONT, 16)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class Draft:
    filename: str
    content: bytes
    text: str


def make_draft(template, organization: Organization, period: Period, today: date) -> Draft:
    text = fill(template.body, figures(organization, period, today))
    name = _("%(org)s%(period)s%(template)s") % {
        "org": organization.name,
        "period": period.label,
        "template": template.name,
    }
    return Draft(f"{name}（初稿）.docx", render_docx(text), text)

"""Staff reports: the desk's figures per day, agent (or team) as a page with charts, and CSV."""

from __future__ import annotations

import csv
import datetime as dt

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from sessions_app.admin import seconds_display

from .charts import Series, bar_chart
from .metrics_selectors import DIMENSIONS, REPORT_MAX_DAYS, Report, ReportRow, desk_report
from .views import staff_page

DEFAULT_DAYS = 30


class ReportForm(forms.Form):
    """The period and grouping of a report; every input validated, the span bounded."""

    start = forms.DateField(
        required=False, label="From", widget=forms.DateInput({"type": "date"}, "%Y-%m-%d")
    )
    end = forms.DateField(
        required=False, label="To", widget=forms.DateInput({"type": "date"}, "%Y-%m-%d")
    )
    group = forms.ChoiceField(required=False, label="Group by")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = [(d.name, d.title) for d in DIMENSIONS.values()]

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        data["end"] = data.get("end") or today
        data["start"] = data.get("start") or data["end"] - dt.timedelta(days=DEFAULT_DAYS - 1)
        data["group"] = data.get("group") or "day"
        if data["start"] > data["end"]:
            raise forms.ValidationError("The start date must not be after the end date.")
        if (data["end"] - data["start"]).days >= REPORT_MAX_DAYS:
            raise forms.ValidationError(f"A report covers at most {REPORT_MAX_DAYS} days.")
        return data


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _csat(row: ReportRow) -> str:
    return "—" if row.csat_average is None else f"{row.csat_average:.2f}"


def _display(row: ReportRow) -> dict:
    return {
        "label": row.label,
        "conversations": row.conversations,
        "ai_resolved": _share(row.ai_resolved_share),
        "handovers": ", ".join(f"{reason} {n}" for reason, n in row.handovers.most_common()) or "—",
        "fr_p50": seconds_display(row.first_response_p50),
        "fr_p90": seconds_display(row.first_response_p90),
        "fr_count": len(row.first_responses),
        "res_p50": seconds_display(row.resolution_p50),
        "res_p90": seconds_display(row.resolution_p90),
        "res_count": len(row.resolutions),
        "csat": _csat(row),
        "csat_count": row.csat_count,
    }


def _rows_for_charts(report: Report) -> list[ReportRow]:
    """Return the groups to plot; by day, the days without conversations too (as zeros)."""
    if report.dimension.name != "day":
        return report.rows
    known = {row.key: row for row in report.rows}
    days = (report.end - report.start).days + 1
    out = []
    for n in range(days):
        key = (report.start + dt.timedelta(days=n)).isoformat()
        out.append(known.get(key) or ReportRow(key=key, label=key))
    return out


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"


def _charts(report: Report) -> list:
    rows = _rows_for_charts(report)
    labels = [row.label for row in rows]
    return [
        bar_chart(
            title="Conversations",
            labels=labels,
            series=[
                Series("AI-resolved", [row.ai_resolved for row in rows], "bar-ai"),
                Series(
                    "Handed to a person",
                    [row.conversations - row.ai_resolved for row in rows],
                    "bar-human",
                ),
            ],
            stacked=True,
        ),
        bar_chart(
            title="First response time",
            labels=labels,
            series=[
                Series("p50", [row.first_response_p50 for row in rows], "bar-p50"),
                Series("p90", [row.first_response_p90 for row in rows], "bar-p90"),
            ],
            value_label=_minutes,
        ),
        bar_chart(
            title="Resolution time",
            labels=labels,
            series=[
                Series("p50", [row.resolution_p50 for row in rows], "bar-p50"),
                Series("p90", [row.resolution_p90 for row in rows], "bar-p90"),
            ],
            value_label=_minutes,
        ),
    ]


@staff_page
def reports_page(request):
    """Render the desk's report for the chosen period and grouping."""
    form = ReportForm(request.GET)
    if not form.is_valid():
        return render(
            request, "console/reports.html", {"form": form, "section": "reports"}, status=400
        )
    data = form.cleaned_data
    report = desk_report(start=data["start"], end=data["end"], group=data["group"])
    return render(
        request,
        "console/reports.html",
        {
            "section": "reports",
            # Unbound, with the values used: the defaults show when the URL gives none.
            "form": ReportForm(initial=data),
            "report": report,
            "rows": [_display(row) for row in report.rows],
            "total": _display(report.total),
            "charts": _charts(report),
            "csv_query": f"start={data['start']}&end={data['end']}&group={data['group']}",
        },
    )


def _cell(value) -> str:
    # A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


CSV_HEADER = [
    "group",
    "conversations",
    "ai_resolved",
    "ai_resolved_share",
    "handover_reasons",
    "first_response_p50_s",
    "first_response_p90_s",
    "first_responses",
    "resolution_p50_s",
    "resolution_p90_s",
    "resolutions",
    "csat_average",
    "csat_count",
]


def _csv_row(row: ReportRow) -> list[str]:
    share = row.ai_resolved_share
    return [
        _cell(row.label),
        str(row.conversations),
        str(row.ai_resolved),
        "" if share is None else f"{share:.4f}",
        _cell(";".join(f"{reason}:{n}" for reason, n in row.handovers.most_common())),
        _seconds(row.first_response_p50),
        _seconds(row.first_response_p90),
        str(len(row.first_responses)),
        _seconds(row.resolution_p50),
        _seconds(row.resolution_p90),
        str(len(row.resolutions)),
        "" if row.csat_average is None else f"{row.csat_average:.2f}",
        str(row.csat_count),
    ]


@staff_page
def reports_csv(request):
    """Return the same report as CSV: one line per group, then the total."""
    form = ReportForm(request.GET)
    if not form.is_valid():
        return HttpResponse(
            " ".join(e for errors in form.errors.values() for e in errors),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    data = form.cleaned_data
    report = desk_report(start=data["start"], end=data["end"], group=data["group"])
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"supportdesk-{data['group']}-{data['start']}-{data['end']}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow(CSV_HEADER)
    for row in report.rows:
        writer.writerow(_csv_row(row))
    writer.writerow(_csv_row(report.total))
    return response

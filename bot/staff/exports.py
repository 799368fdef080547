"""What the staff page shows and exports about a booking request: the intake summary, the CSV
rows and the iCalendar event. Pure functions of a request (no database, no web server), so
every format says the same thing and is tested on its own.
"""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Event, vText

DEFAULT_MINUTES = 60
KIOSK_NAME = "at reception (kiosk)"
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ICS_STATUS = {"new": "TENTATIVE", "confirmed": "CONFIRMED", "cancelled": "CANCELLED", "done": "CONFIRMED"}
CSV_COLUMNS = ("code", "created_utc", "status", "name", "phone", "email", "channel", "technique", "minutes",
               "preferred_time", "preferred_words", "conditions", "areas", "goals", "symptoms", "pressure",
               "audiences")


def _names(values: Any) -> List[str]:
    if not isinstance(values, (list, tuple)):
        return []
    return [str(v) for v in values if v not in (None, "")]


def conditions(intake: Optional[Mapping[str, Any]]) -> List[Dict[str, str]]:
    """The reported conditions, those that need a modification first (they change the session)."""
    found = []
    for item in (intake or {}).get("conditions") or []:
        if isinstance(item, Mapping):
            found.append({"name": str(item.get("name") or item.get("id") or "condition"),
                          "severity": str(item.get("severity") or ""),
                          "modification": str(item.get("modification") or "")})
        elif item:
            found.append({"name": str(item), "severity": "", "modification": ""})
    return sorted(found, key=lambda c: not c["modification"])


def needs_modification(intake: Optional[Mapping[str, Any]]) -> bool:
    """Whether the therapist must adapt the session: the list highlights these requests."""
    return any(c["modification"] for c in conditions(intake))


def condition_text(condition: Mapping[str, str]) -> str:
    return f"{condition['name']} – {condition['modification']}" if condition["modification"] else condition["name"]


def intake_sections(intake: Optional[Mapping[str, Any]]) -> List[Tuple[str, List[str]]]:
    """The intake as labelled lists, conditions first, leaving out what the person did not mention."""
    intake = intake or {}
    sections = [
        ("Conditions", [condition_text(c) for c in conditions(intake)]),
        ("Areas", _names(intake.get("areas"))),
        ("Goals", _names(intake.get("goals"))),
        ("Symptoms", _names(intake.get("symptoms"))),
        ("Pressure", [str(intake["pressure"])] if intake.get("pressure") else []),
        ("Who", _names(intake.get("audiences"))),
    ]
    return [(label, values) for label, values in sections if values]


def join_values(label: str, values: Sequence[str]) -> str:
    """Conditions carry their own commas (in modifications), so they are separated by semicolons."""
    return "; ".join(values) if label == "Conditions" else ", ".join(values)


def intake_line(intake: Optional[Mapping[str, Any]]) -> str:
    """One short line for the list: condition names first, then areas, goals, symptoms, pressure."""
    intake = intake or {}
    parts = [", ".join(c["name"] for c in conditions(intake)), ", ".join(_names(intake.get("areas"))),
             ", ".join(_names(intake.get("goals"))), ", ".join(_names(intake.get("symptoms"))),
             f"{intake['pressure']} pressure" if intake.get("pressure") else "",
             ", ".join(_names(intake.get("audiences")))]
    return " · ".join(p for p in parts if p) or "nothing reported"


def display_name(request: Any) -> str:
    return request.name or KIOSK_NAME


def service_text(request: Any) -> str:
    """'Swedish massage, 60 min'; what is missing is left for reception to ask."""
    technique = request.technique_name or request.technique or "massage (not chosen)"
    return f"{technique}, {request.minutes} min" if request.minutes else technique


def format_time(moment: Optional[datetime]) -> str:
    return moment.strftime("%a %d %b %Y, %H:%M") if moment else ""


def preferred_text(request: Any) -> str:
    """The spa-local time asked for, or the person's own words when no time was understood."""
    if request.preferred_at:
        return format_time(request.preferred_at)
    return f"“{request.preferred_text}”" if request.preferred_text else "no time given"


def contact_lines(request: Any) -> List[str]:
    lines = [display_name(request)]
    lines += [v for v in (request.phone, request.email) if v]
    return lines


def safe_cell(value: Any) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_row(request: Any) -> List[str]:
    intake = request.intake or {}
    row = [
        request.code, request.created_at.isoformat(sep=" ") if request.created_at else "", request.status,
        request.name or "", request.phone or "", request.email or "", request.channel,
        request.technique_name or request.technique or "", request.minutes or "",
        request.preferred_at.isoformat(sep=" ", timespec="minutes") if request.preferred_at else "",
        request.preferred_text or "",
        "; ".join(condition_text(c) for c in conditions(intake)),
        ", ".join(_names(intake.get("areas"))), ", ".join(_names(intake.get("goals"))),
        ", ".join(_names(intake.get("symptoms"))), intake.get("pressure") or "",
        ", ".join(_names(intake.get("audiences"))),
    ]
    return [safe_cell(cell) for cell in row]


def csv_text(requests: Iterable[Any]) -> str:
    """The requests as CSV with a header row (UTF-8 with BOM when encoded, for spreadsheet apps)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for request in requests:
        writer.writerow(csv_row(request))
    return out.getvalue()


def spa_zone(name: Optional[str]) -> Optional[ZoneInfo]:
    """The spa's time zone, or None (then times are floating: the same wall time everywhere)."""
    if not name:
        return None
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        return None


def description(request: Any) -> str:
    lines = ["Contact: " + " / ".join(contact_lines(request))]
    if request.preferred_text:
        lines.append(f"Asked for: {request.preferred_text}")
    lines += [f"{label}: {join_values(label, values)}" for label, values in intake_sections(request.intake)]
    lines.append(f"Reference: {request.code} (status: {request.status})")
    return "\n".join(lines)


def icalendar_bytes(request: Any, spa: Optional[Mapping[str, str]] = None, now: Optional[datetime] = None) -> bytes:
    """One VEVENT for the therapist's calendar: the preferred time in the spa's time zone (TZID
    with its VTIMEZONE), floating when the spa has none configured. Raises ValueError without a
    preferred time: there is nothing to put in a calendar."""
    if request.preferred_at is None:
        raise ValueError("this request has no preferred time")
    spa = spa or {}
    zone = spa_zone(spa.get("timezone"))
    start = request.preferred_at.replace(tzinfo=zone) if zone else request.preferred_at.replace(tzinfo=None)
    calendar = Calendar()
    calendar.add("prodid", "-//Massage assistant//Staff page//EN")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"booking-{request.code}@{_uid_domain(spa)}")
    event.add("dtstamp", now or datetime.now(timezone.utc).replace(microsecond=0))
    event.add("dtstart", start)
    event.add("duration", timedelta(minutes=request.minutes or DEFAULT_MINUTES))
    event.add("summary", f"Massage: {request.technique_name or request.technique or 'massage'} ({request.code})")
    event.add("description", description(request))
    event.add("status", ICS_STATUS.get(request.status, "TENTATIVE"))
    if spa.get("name"):
        event.add("location", vText(spa["name"]))
    calendar.add_component(event)
    if zone:
        calendar.add_missing_timezones(first_date=start.date() - timedelta(days=366),
                                       last_date=start.date() + timedelta(days=366))
    return calendar.to_ical()


def _uid_domain(spa: Mapping[str, str]) -> str:
    email = spa.get("email") or ""
    return email.rpartition("@")[2] or "massage-assistant"


def ics_filename(code: str) -> str:
    return f"booking-{code}.ics"


def csv_filename(now: datetime) -> str:
    return f"booking-requests-{now:%Y%m%d-%H%M}.csv"


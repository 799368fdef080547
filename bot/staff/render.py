"""HTML for the staff page: Jinja2 templates with autoescaping always on (names, words and
intake values were typed by the public), and the values the templates show."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.booking.models import STATUSES, TRANSITIONS
from bot.staff import exports

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"
ACTION_LABELS = {"confirmed": "Confirm", "done": "Mark as done", "cancelled": "Cancel request"}

_environment = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined,
                           trim_blocks=True, lstrip_blocks=True)


def render(template: str, **context: Any) -> str:
    """A page; every value is escaped unless a template says otherwise (none does)."""
    return _environment.get_template(template).render(statuses=STATUSES, **context)


def created_text(created_at: Optional[datetime], zone: Any) -> str:
    """When the request came in, on the spa's clock when its time zone is known, else in UTC."""
    if created_at is None:
        return ""
    if zone is None:
        return exports.format_time(created_at) + " UTC"
    return exports.format_time(created_at.replace(tzinfo=timezone.utc).astimezone(zone))


def row(request: Any, zone: Any) -> Dict[str, Any]:
    """What the list shows of one request."""
    return {
        "code": request.code, "created": created_text(request.created_at, zone),
        "name": exports.display_name(request), "kiosk": not request.name,
        "service": exports.service_text(request), "preferred": exports.preferred_text(request),
        "status": request.status, "intake": exports.intake_line(request.intake),
        "needs_care": exports.needs_modification(request.intake),
    }


def detail(request: Any, zone: Any) -> Dict[str, Any]:
    """Everything the detail and print pages show of one request."""
    intake = request.intake or {}
    sections = exports.intake_sections(intake)
    return {
        **row(request, zone),
        "phone": request.phone, "email": request.email, "channel": request.channel,
        "preferred_words": request.preferred_text, "has_time": request.preferred_at is not None,
        "conditions": exports.conditions(intake),
        "other_sections": [(label, values) for label, values in sections if label != "Conditions"],
        "actions": [{"status": s, "label": ACTION_LABELS.get(s, s)} for s in TRANSITIONS.get(request.status, ())],
    }


def spa_details(settings: Mapping[str, str]) -> Dict[str, str]:
    return {"name": settings.get("name") or "Massage assistant"}


def status_options(selected: Optional[str]) -> List[Dict[str, Any]]:
    return [{"value": "", "label": "Any status", "selected": not selected}] + [
        {"value": s, "label": s.capitalize(), "selected": s == selected} for s in STATUSES]

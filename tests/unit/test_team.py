"""data/kb/team.yml: the sample team reads cleanly, its hours and certifications agree with the
Team page's rules, and `make kb` writes it once, never over the spa's own team."""
from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.booking import team
from bot.booking.appointments import Room, Therapist, TherapistHours
from bot.knowledge.db import get_engine
from bot.knowledge.loader import load
from bot.staff.team_forms import CERTIFICATIONS
from tests.conftest import KB_DIR


def test_the_sample_team_reads_and_its_certifications_are_the_team_pages() -> None:
    read = team.read_team(KB_DIR / "team.yml", ["swedish", "deep_tissue", "sports", "trigger_point", "reflexology"])
    assert [m.id for m in read.therapists] == ["maria", "sam", "priya", "tom"]
    assert dict(read.rules.certifications) == CERTIFICATIONS
    assert read.rules.required_for(["pregnancy", "arthritis"]) == {"prenatal"}
    maria = read.therapists[0]
    assert (0, time(9), time(13)) in maria.hours and (0, time(13, 30), time(17)) in maria.hours


def test_hours_read_like_the_team_page_reads_them() -> None:
    assert team.parse_stretches("9am-1pm, 13:30-24:00") == [(time(9), time(13)), (time(13, 30), time(0))]
    with pytest.raises(ValueError):
        team.parse_stretches("09:00-13:00, 12:00-15:00")


def test_a_bad_team_file_names_the_therapist_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "team.yml"
    bad.write_text("certifications: {prenatal: Prenatal}\ntherapists:\n  - id: ana\n    name: Ana\n"
                   "    certifications: [reiki]\n", encoding="utf-8")
    with pytest.raises(team.TeamError, match="therapist ana: certification 'reiki'"):
        team.read_team(bad)


def test_make_kb_writes_the_team_once_and_leaves_the_spas_own_team_alone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'spa.db'}"
    load(KB_DIR, url)
    with Session(get_engine(url), future=True) as session, session.begin():
        session.get(Therapist, "tom").active = False
        session.add(Therapist(id="ana", name="Ana Lima", techniques=["swedish"], certifications=[], active=True))
    load(KB_DIR, url)
    with Session(get_engine(url), future=True) as session:
        assert session.get(Therapist, "tom").active is False and session.get(Therapist, "ana") is not None
        assert len(session.execute(select(Room)).all()) == 4
        assert len(session.execute(select(TherapistHours).where(TherapistHours.therapist_id == "maria")).all()) == 10

"""Which free times to offer in the conversation, and what an answer to "when?" comes to.

The booking form and the "move my appointment" answer both ask this module; it reads the person's
words with bot.booking.wishes, the spa's diary with bot.booking.diary, and decides, without
speaking: the words the person sees are actions/replies.py's.

Who may be offered: a therapist who does the technique and holds every certification the intake
requires (team.yml's `certification_for`: pregnancy -> prenatal...). "With Maria" or "a woman
therapist" narrow it; when that leaves nobody, the answer says so (`nobody`) rather than quietly
offering someone else.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import FrozenSet, List, Optional, Tuple

from bot.booking import availability, diary
from bot.booking.team import Rules
from bot.booking.wishes import TherapistName, Wish, read_wish, to_request_fields
from bot.booking.when import OpeningHours

OFFER_COUNT = 5
WAITLIST = "waitlist"


@dataclass(frozen=True)
class Context:
    """What an offer depends on: the spa, its rules, the service and who may do it, and now."""

    spa: availability.Spa
    rules: Rules
    hours: OpeningHours
    service: availability.Service
    certifications: FrozenSet[str]
    now: datetime  # aware, the spa's zone
    url: Optional[str] = None
    ignore: Optional[str] = None  # the code of the person's own hold or appointment being moved

    @property
    def team(self) -> List[TherapistName]:
        return [TherapistName(t.id, t.name, t.gender) for t in self.spa.therapists]

    def name_of(self, therapist_id: str) -> str:
        return next((t.name for t in self.spa.therapists if t.id == therapist_id), therapist_id)


@dataclass(frozen=True)
class Offer:
    """Free times to show, and why they are these.

    `slots` fit the wish; when the wish's window has none, `nearest` holds the next free times
    outside it. `nobody` is set when no therapist could do this at all with the wish's narrowing
    ("with Sam" for prenatal massage): then `qualified` names who can. Both lists empty and
    `nobody` unset means nothing is free in the whole horizon: the waiting list.
    """

    slots: List[availability.Slot]
    nearest: List[availability.Slot] = field(default_factory=list)
    wish: Optional[Wish] = None
    nobody: bool = False
    qualified: Tuple[str, ...] = ()

    @property
    def nothing_free(self) -> bool:
        return not self.slots and not self.nearest and not self.nobody


@dataclass(frozen=True)
class Answer:
    """An answer to "when?": a slot that is free now, or what to say and offer instead."""

    slot: Optional[availability.Slot] = None
    problem: Optional[str] = None  # "taken", "unknown_therapist", "closed", "past", "too_far", "ambiguous", "unparsed"
    wish_text: Optional[str] = None  # the words to offer times for next
    needs: Optional[str] = None


def request_for(context: Context, wish: Optional[Wish], count: int = OFFER_COUNT) -> availability.Request:
    fields = to_request_fields(wish) if wish is not None else {}
    if wish is not None and wish.any_therapist:
        fields.pop("therapist_id", None)
        fields.pop("gender", None)
    return availability.Request(
        service=context.service, now=context.now, certifications=context.certifications,
        granularity_minutes=context.rules.granularity_minutes, notice_minutes=context.rules.notice_minutes,
        horizon_days=context.rules.horizon_days, count=count,
        # Times on one day at least a session and its buffer apart: each could be booked.
        min_gap_minutes=context.service.minutes + context.service.buffer_minutes, **fields)


def read(context: Context, text: str) -> Wish:
    return read_wish(text, context.now, context.hours, context.team, context.service.minutes)


def offer(context: Context, wish_text: Optional[str] = None) -> Offer:
    """The free times for the person's words (none: the next free times from now)."""
    wish = read(context, wish_text) if wish_text else None
    request = request_for(context, wish)
    if not availability.therapists_for(context.spa, context.service, context.certifications,
                                       request.therapist_id, request.gender):
        qualified = availability.therapists_for(context.spa, context.service, context.certifications)
        return Offer([], wish=wish, nobody=True, qualified=tuple(t.name for t in qualified))
    slots = diary.free_times(context.spa, request, context.url, context.ignore)
    if slots or wish is None:
        return Offer(slots, wish=wish)
    # Nothing in the window asked for: the nearest times with the same therapist narrowing.
    wider = replace(request_for(context, None, count=3), therapist_id=request.therapist_id, gender=request.gender,
                    earliest=request.earliest if wish.exact else None)
    return Offer([], nearest=diary.free_times(context.spa, wider, context.url, context.ignore), wish=wish)


def answer(context: Context, text: str) -> Answer:
    """What the person's words to "when?" come to: an exact free time is taken as the choice;
    a day, a part of a day or a therapist is a wish to offer times for."""
    wish = read(context, text)
    if wish.unknown_therapist:
        return Answer(problem="unknown_therapist", wish_text=text)
    if wish.time_status is not None:
        return Answer(problem=wish.time_status, wish_text=None, needs=wish.needs)
    if wish.exact is not None:
        request = request_for(context, wish)
        slot = diary.fits(context.spa, context.service, wish.exact, context.certifications, context.now,
                          context.rules.notice_minutes, request.therapist_id, request.gender, context.url,
                          context.ignore)
        if slot is not None:
            return Answer(slot=slot)
        return Answer(problem="taken", wish_text=text)
    if wish.said_anything:
        return Answer(wish_text=text)
    return Answer(problem="unparsed")


def misfit(context: Context, slot: availability.Slot) -> Optional[availability.Misfit]:
    """Why `slot` cannot be booked for this person and service now, or None when it can: the
    same checks as the offers (training the intake requires, technique, hours, breaks, time off,
    notice, what is booked), for a time that comes back from a button or is about to be held."""
    booked = diary.diary(context.spa, slot.start, 1, context.url, now=context.now, ignore=context.ignore)
    proposal = availability.Proposal(context.service, slot.start, slot.therapist_id, slot.room_id,
                                     context.certifications)
    return availability.check_slot(context.spa, booked, proposal, now=context.now,
                                   notice_minutes=context.rules.notice_minutes)

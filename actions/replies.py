"""Wording of the replies built from knowledge-base records. Plain text with light markdown."""
from __future__ import annotations

from typing import Dict, Iterable, List, Sequence

from bot.advice.catalogue import Catalogue, ConditionInfo
from bot.advice.recommendation import Recommendation, join_words
from bot.knowledge import models

HEALTH_NOTICE = (
    "Just so you know: I share general information, not medical advice. "
    "If you are unsure about a health condition, please check with your doctor."
)

SMALL_TALK = {
    "greet": "Hi! I'm the massage assistant. Tell me how you feel or what you'd like to know, and I'll "
             "help you find the right massage.",
    "goodbye": "Take care, and be kind to your body. Bye for now!",
    "thanks": "You're welcome! Anything else I can help with?",
    "bot_challenge": "I'm a virtual assistant, not a person. I can answer questions about massage, and I can "
                     "put you in touch with our team whenever you like.",
}

SHORT_REPLIES = {
    "affirm": "Great. What would you like to know?",
    "deny": "No problem. Is there anything else I can help with?",
}


def button(title: str, payload: str) -> Dict[str, str]:
    return {"title": title, "payload": payload}


def entity_payload(intent: str, entity: str, value: str) -> str:
    return f'/{intent}{{"{entity}": "{value}"}}'


def contact_line(spa: Dict[str, str]) -> str:
    """How to reach a person at the spa, from the knowledge base."""
    parts = [f"call {spa['phone']}", f"email {spa['email']}"]
    line = f"You can reach the team at {spa.get('name', 'the spa')}: {' or '.join(parts)}"
    if spa.get("hours"):
        line += f" ({spa['hours']})"
    return line + "."


def technique_detail(technique: models.Technique) -> str:
    return (
        f"**{technique.name}**: {technique.summary} It {technique.effects}.\n"
        f"- Pressure: {technique.pressure}\n- Best for: {technique.good_for}"
    )


def audience_detail(audience: models.Audience, technique_names: Sequence[str]) -> str:
    return f"**{audience.name}**: {audience.description} Techniques that fit: {join_words(list(technique_names))}."


def condition_detail(condition: models.Condition) -> str:
    if condition.severity == "absolute":
        return (
            f"**{condition.name}**: no massage for now. {condition.reason} {condition.advice}"
        )
    return (
        f"**{condition.name}**: massage is possible, with care. {condition.reason} "
        f"{condition.modification}"
    )


def avoid_reply(conditions: Iterable[ConditionInfo]) -> str:
    """Why massage must wait; conditions already explained in this reply's preface are left out."""
    conditions = list(conditions)
    lines = ["I'm sorry, but a massage isn't safe for you right now."] if conditions else []
    for condition in conditions:
        lines.append(f"- **{condition.name}**: {condition.reason} {condition.advice}")
    lines.append(
        "Once that has passed, or your doctor says massage is fine, I'll gladly help you plan a session."
    )
    return "\n".join(lines)


def screening_question(catalogue: Catalogue, known: Sequence[str] = (), acknowledged: bool = False) -> str:
    """The checklist, asking only about what the person has not already told us."""
    listed = [c for c in catalogue.conditions.values() if c.id not in known]
    names = [c.name.lower() for c in listed if c.checklist]
    others = [c.name.lower() for c in listed if not c.checklist]
    mentioned = [catalogue.conditions[c].name.lower() for c in known if c in catalogue.conditions]
    if mentioned and not acknowledged:
        opening = f"Thanks for telling me about {join_words(mentioned)}. A few more safety checks first."
    elif mentioned:
        opening = "A few more safety checks before I suggest anything."
    else:
        opening = "Before I suggest anything, a quick safety check."
    text = f"{opening} Do any of these apply to you right now? " + "; ".join(names) + "."
    if others:
        text += f" Please also tell me about anything else, such as {join_words(others)}."
    return text


def screening_buttons(catalogue: Catalogue, known: Sequence[str] = ()) -> List[Dict[str, str]]:
    buttons = [
        button(c.name, entity_payload("describe_problem", "condition", c.id))
        for c in catalogue.conditions.values() if c.id not in known and c.checklist
    ]
    return buttons + [button("None of these", "/deny")]


def recommendation_reply(recommendation: Recommendation, already_said: Iterable[str] = ()) -> str:
    lines = ["Here is what I would suggest:"]
    for number, choice in enumerate(recommendation.techniques, start=1):
        lines.append(f"{number}. {choice.reason}")
    lines.append(f"**Session length:** {recommendation.length_reason}.")
    frequency = recommendation.frequency
    lines.append(f"**How often:** {frequency.cadence}. {frequency.explanation}")
    notes = [m for m in recommendation.modifications if m not in set(already_said)]
    if recommendation.avoided_areas:
        notes.append(f"The therapist will keep away from your {join_words(list(recommendation.avoided_areas))}.")
    if notes:
        lines.append("**Important:** " + " ".join(notes))
    lines.append("Would you like to know more about the first option, or shall I help you book?")
    return "\n".join(lines)


def explanation_reply(recommendation: Recommendation) -> str:
    lines = ["Here is why I suggested it:"]
    lines += [f"- {choice.reason}" for choice in recommendation.techniques]
    lines.append(f"- {recommendation.length_reason}.")
    lines.append(f"- {recommendation.frequency.cadence.capitalize()}: {recommendation.frequency.explanation}")
    if recommendation.excluded:
        lines.append("I left out the firmer techniques to keep the pressure safe and comfortable for you.")
    return "\n".join(lines)


def personal_frequency(recommendation: Recommendation) -> str:
    frequency = recommendation.frequency
    return f"For you, I'd suggest {frequency.cadence}. {frequency.explanation}"


def personal_length(recommendation: Recommendation) -> str:
    return f"For you: {recommendation.length_reason}."


def personal_pressure(technique: models.Technique) -> str:
    return f"The {technique.name.lower()} I suggested: {technique.pressure}"


# --- booking (actions/booking_form.py, booking_questions.py, appointment_changes.py) ---

BOOKING_ASK_SERVICE = "Which massage would you like?"
BOOKING_ASK_LENGTH = "{technique}: how long would you like it to be?"
BOOKING_ASK_DAY = "Which day would you like?"
BOOKING_ASK_HOUR = "What time would suit you that day?"
BOOKING_ASK_NAME = "What name should we put the booking under?"
BOOKING_ASK_CONTACT = "What's the best phone number or email for the team to reach you?"
BOOKING_OFFER_NUMBER = "Can the team reach you at {number}?"
BOOKING_ASK_CONSENT = (
    "Can we keep your name, contact details and what you told me about your health with this "
    "booking? We only use them to arrange it."
)
BOOKING_ASK_CONSENT_KIOSK = (
    "Can we keep what you told me about your health with this booking, so your therapist can "
    "prepare? We only use it for this booking."
)
BOOKING_CANCELLED_BEFORE_SENDING = "OK, I've cancelled this booking request. Nothing was sent to the spa."
BOOKING_NONE_OPEN = "I can't find an open booking request in this chat."


def no_booking_for_now(spa: Dict[str, str]) -> str:
    """Asked when to come in, after something that rules massage out for now."""
    return ("Because of what you told me, I can't suggest a time for a massage for now. Once your doctor "
            f"says massage is OK, you are very welcome to book. {contact_line(spa)}")


def no_open_booking(spa: Dict[str, str]) -> str:
    """Moving or cancelling an appointment made another way (by phone, online, at the desk): the
    team does it, under the spa's own notice period."""
    text = (f"{BOOKING_NONE_OPEN} To move or cancel an appointment you made another way, please contact "
            f"the team. {contact_line(spa)}")
    policy = (spa.get("cancellation") or "").strip()
    return f"{text}\n\n{policy}" if policy else text
BOOKING_CANCELLED = "Done: I've cancelled booking request {code}. The team will see it on their list."
BOOKING_CHANGED = (
    "Done: booking request {code} now asks for {when}. The team will contact you to confirm the new time."
)
BOOKING_SERVICE_CHANGED = (
    "Done: booking request {code} is now for {service}. The team will contact you to confirm."
)
BOOKING_CHANGE_WHICH_SERVICE = "Which massage would you like instead? You can also say how long, like \"60 minutes\"."
BOOKING_CONTACT_CHANGED = "Done: the team will contact you at {contact} about booking request {code}."
BOOKING_NAME_CHANGED = "Done: booking request {code} is now under the name {name}."
BOOKING_CHANGE_CONTACT_HOW = (
    "Try something like \"change the phone number on my booking to 202 555 0143\"."
)
BOOKING_CHANGE_HOW = (
    "Sorry, I couldn't work out the new time. Try something like \"change my booking to Friday at 3 pm\"."
)
BOOKING_SUGGEST_CANCEL = "Please don't come in for now. Would you like me to cancel your booking request?"
BOOKING_PROBLEMS = {
    "unclear": "Sorry, I didn't catch that.",
    "unsuitable": "Please pick one of these instead.",
    "past": "That time has already passed.",
    "unparsed": "Sorry, I couldn't work out the day and time. Try something like \"Tuesday at 3 pm\".",
    "too_far": "That is a bit too far ahead for a request. Please pick a date in the next few weeks.",
    "no_name": "Sorry, I didn't catch a name.",
    "invalid_phone": "That phone number doesn't look right. Please check it, with the area code.",
    "invalid_email": "That email address doesn't look right. Please check it.",
    "missing": "I need a phone number or an email address so the team can confirm.",
}


def booking_problem_text(problem: str | None, question: str) -> str:
    """The question again, saying first what was wrong with the last answer."""
    lead = BOOKING_PROBLEMS.get(problem or "")
    return f"{lead} {question}" if lead else question


def booking_lead(relative_notes: Sequence[str], spa: Dict[str, str]) -> str:
    """What is said as the booking request starts; the link and phone stay available."""
    instant = spa.get("instant_confirmation", "no").strip().lower() in ("yes", "true", "on")
    lines = ["Lovely! I can book you in right here." if instant else "Lovely! I can take your booking request right here."]
    if spa.get("booking_url"):
        lines.append(f"(You can also book online at {spa['booking_url']} or call {spa.get('phone', 'us')}.)")
    if relative_notes:
        lines.append("I'll pass on what you told me about your health, so the team can plan: "
                     + " ".join(relative_notes))
    return "\n".join(lines)


def booking_ask_time(service: str, hours: str) -> str:
    opening = f" We're open {hours}." if hours else ""
    return f"{service}. What day and time would suit you?{opening}"


BOOKING_TIME_TAKEN = "Sorry, {asked} isn't free."
BOOKING_TAKEN_MEANWHILE = "Sorry, someone else has just booked that time."
BOOKING_HOLD_GONE = "Sorry, the time I was holding for you has gone in the meantime, so nothing is booked."


def booking_closed_lead(hours: str, asked: str = "") -> str:
    when = f" on {asked}" if asked else " then"
    return f"Sorry, we're closed{when}." + (f" We're open {hours}." if hours else "")


def booking_unknown_therapist(names: Sequence[str]) -> str:
    return f"I don't know a therapist by that name here. Our therapists are {_join_names(names)}."


def _join_names(names: Sequence[str]) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def booking_offer(lead: str, service: str, fits_the_wish: bool, example_names: Sequence[str]) -> str:
    """The free times as buttons after this text, and how to ask for others."""
    times = (f"Here are the next free times for {service}:" if fits_the_wish
             else "Nothing is free then. The nearest free times are:")
    example = f', "with {example_names[0]}"' if example_names else ""
    ask = ("What day and time would suit you? Pick one, or tell me what suits you (for example "
           f'"Saturday morning", "after work on Thursday"{example} or "a woman therapist").')
    return " ".join(part for part in (lead, times) if part) + "\n" + ask


def booking_nobody(lead: str, qualified: Sequence[str], service: str) -> str:
    """Nobody on the team fits the narrowing asked for (a named therapist, a gender)."""
    if not qualified:
        return " ".join(p for p in (lead, f"Sorry, nobody on our team can offer {service} for you at the moment. "
                                          "Please call us and the team will help.") if p)
    who = _join_names([name.split()[0] for name in qualified])
    return " ".join(p for p in (lead, f"For {service} as you need it, I can book you with {who}. "
                                      f'Would that be all right? Say "any therapist" to see their free times.') if p)


def booking_nothing_free(lead: str, service: str, days: int, spa: Dict[str, str]) -> str:
    text = (f"I'm sorry: nothing is free for {service} in the next {days} days. I can put you on our waiting "
            f"list, and the team will contact you if a time opens up. Or {contact_line(spa)}.")
    return " ".join(p for p in (lead, text) if p)


def booking_appointment_summary(details: Sequence[str], intake: Sequence[str], hold_minutes: int) -> str:
    lines = ["Here is your appointment:"] + list(details)
    if intake:
        lines.append("What your therapist will get from our chat:")
        lines += [f"- {line}" for line in intake]
    lines.append(f"I'm holding this time for you for {hold_minutes} minutes. Shall I book it?")
    return "\n".join(lines)


def booking_confirmed(code: str, when: str, therapist: str, contact: str, notes: Sequence[str],
                      policy: str, reminder: bool) -> str:
    """`contact`: where the confirmation went ("" when nothing could be sent); `reminder`: one
    will go the day before."""
    lines = [f"You're booked: {when} with {therapist}. Your reference code is **{code}**."]
    if contact:
        lines.append(f"I've sent the details to {contact}" + (", and we'll remind you the day before." if reminder
                                                               else "."))
    if notes:
        lines.append("I've told your therapist about your health so they can plan: " + " ".join(notes))
    if policy:
        lines.append(policy)
    return "\n".join(lines)


def booking_confirmed_kiosk(code: str, when: str, therapist: str, notes: Sequence[str]) -> str:
    lines = [f"You're booked: {when} with {therapist}. Show this code to reception: {code}"]
    if notes:
        lines.append("Your therapist will know about your health so they can plan: " + " ".join(notes))
    return "\n".join(lines)


def booking_waitlisted(code: str, contact: str) -> str:
    reach = f" at {contact}" if contact else ""
    return (f"You're on our waiting list (reference **{code}**). The team will contact you{reach} as soon as a "
            "time opens up.")


BOOKING_HOLD_LOST = ("Sorry, the time I was holding for you has gone in the meantime, so nothing is booked. "
                     "Choose another time and I'll book it for you.")


def appointment_cancelled(code: str, when: str, policy: str) -> str:
    lines = [f"Done: I've cancelled your appointment on {when} (code {code})."]
    if policy:
        lines.append("As it was less than the notice we ask for: " + policy)
    return "\n".join(lines)


def appointment_moved(code: str, when: str, therapist: str, policy: str, told: bool) -> str:
    sent = " I've sent you the new details." if told else ""
    lines = [f"Done: your appointment {code} is now on {when} with {therapist}.{sent}"]
    if policy:
        lines.append("As this change came at short notice: " + policy)
    return "\n".join(lines)


def appointment_now(code: str, when: str) -> str:
    return f"Your appointment {code} is on {when}."


APPOINTMENT_TIME_GONE = "Sorry, that time can't be booked any more."
APPOINTMENT_PICK_TIME = ("Which of these free times would you like instead? Or tell me a day or time, "
                         'for example "Friday afternoon".')


def appointment_no_times(spa: Dict[str, str]) -> str:
    return f"I couldn't find another free time in the next two weeks. To change it, {contact_line(spa)}."


def booking_closed_text(hours: str, asked: str = "") -> str:
    """A time outside opening hours: which time, the hours, and (as buttons) the next open times."""
    when = f" on {asked}" if asked else " then"
    opening = f" We're open {hours}." if hours else ""
    return f"Sorry, we're closed{when}.{opening} Would one of these times work?"


def booking_change_closed(asked: str, hours: str, options: Sequence[str]) -> str:
    """Moving a sent request to a closed time: nothing changed, and times that would work."""
    text = f"Sorry, we're closed on {asked}, so I haven't changed anything. We're open {hours}."
    if options:
        text += f" For example: \"change my booking to {options[0]}\"."
    return text


def booking_summary(details: Sequence[str], intake: Sequence[str]) -> str:
    lines = ["Here is your booking request:"] + list(details)
    if intake:
        lines.append("What the spa will get from our chat:")
        lines += [f"- {line}" for line in intake]
    lines.append("Shall I send it?")
    return "\n".join(lines)


def booking_done(code: str, name: str, contact: str, notes: Sequence[str]) -> str:
    thanks = f"Thank you, {name}!" if name else "Thank you!"
    lines = [f"{thanks} Your booking request is in. Your reference code is **{code}**.",
             f"The team will contact you at {contact} to confirm the time." if contact
             else "The team will contact you to confirm the time."]
    if notes:
        lines.append("I've told them about your health so they can plan: " + " ".join(notes))
    lines.append("To change the time or cancel, just tell me here.")
    return "\n".join(lines)


def booking_done_kiosk(code: str, notes: Sequence[str]) -> str:
    lines = [f"Thank you! Show this code to reception: {code}",
             "They will confirm the time with you."]
    if notes:
        lines.append("Your therapist will know about your health so they can plan: " + " ".join(notes))
    return "\n".join(lines)


def booking_declined(spa: Dict[str, str]) -> str:
    lines = ["No problem: I haven't kept any of your details."]
    if spa.get("booking_url"):
        lines.append(f"You can book online at {spa['booking_url']}.")
    lines.append(contact_line(spa))
    return "\n".join(lines)


def booking_not_saved(spa: Dict[str, str]) -> str:
    return "Sorry, I couldn't save your request just now. " + contact_line(spa)


def booking_service_does_not_fit(asked: str, hours: str) -> str:
    return (f"A session that long would not end before we close on {asked} (we're open {hours}), so I "
            "haven't changed anything. You can move the time first, then the length.")


def booking_change_by_phone(spa: Dict[str, str]) -> str:
    return "To change that, please get in touch with the team. " + contact_line(spa)

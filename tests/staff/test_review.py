"""The owner's review page: what the assistant missed is listed from the tracker store (never an
expired, forgotten or crisis conversation), a label is saved and written to reviewed.yml in
Rasa's format, reception is refused everywhere, and a labelled message is understood after the
guarded retrain."""
from __future__ import annotations

import asyncio
import re
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, Iterator, List, Optional

import pytest
import requests
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SlotSet, UserUttered
from rasa.shared.core.slots import BooleanSlot
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
from sqlalchemy import inspect

from bot.knowledge import migrate
from bot.knowledge.db import get_engine
from bot.retention import FORGET_SLOT, PrivateSQLTrackerStore
from bot.staff import review, review_export
from bot.staff.config import StaffConfig
from tests.conftest import PROJECT_ROOT
from tests.staff.conftest import PASSWORD, InProcessServer, build_app
from tests.staff.test_http import csrf_in, logged_in

OWNER, RECEPTION = "olive", "rhea"
DAY = 86400.0
AYE = "aye go on then"  # the current model's guess: goodbye at 0.42 (it means yes)
GIFT = "do u lot do vouchers for my sis bday"
TORN = "nah ur alright"
SHRUG = "meh whatever works"
MARKUP = "<script>alert(1)</script> wot"
ROUTES = (("GET", "/staff/review"), ("POST", "/staff/review/1"), ("GET", "/staff/review/reviewed.yml"))


def said(text: str, intent: str, confidence: float, at: float, ranking: Optional[List[Dict[str, Any]]] = None,
         entities: Optional[List[Dict[str, Any]]] = None, channel: str = "web") -> UserUttered:
    parse = {"text": text, "intent": {"name": intent, "confidence": confidence},
             "intent_ranking": ranking or [{"name": intent, "confidence": confidence}], "entities": entities or []}
    return UserUttered(text, parse["intent"], parse["entities"], parse_data=parse, timestamp=at, input_channel=channel)


def replied(text: str, at: float) -> BotUttered:
    return BotUttered(text, timestamp=at)


def fell_back(text: str, at: float, best: str, confidence: float, second: str, second_confidence: float) -> UserUttered:
    ranking = [{"name": "nlu_fallback", "confidence": 0.3}, {"name": best, "confidence": confidence},
               {"name": second, "confidence": second_confidence}]
    return said(text, "nlu_fallback", 0.3, at, ranking)


def conversations(now: float) -> Dict[str, List[Event]]:
    minutes = lambda m: now - m * 60  # noqa: E731
    return {
        "web-gift": [fell_back(GIFT, minutes(50), "ask_price", 0.21, "ask_insurance", 0.08),
                     ActionExecuted("action_short_answer", timestamp=minutes(50)),
                     replied("Sorry, I did not catch that. Could you say it another way?", minutes(50))],
        "web-torn": [fell_back(TORN, minutes(40), "deny", 0.53, "affirm", 0.46),
                     replied("Sorry, did you mean yes or no?", minutes(40))],
        "kiosk-aye": [said("hello", "greet", 0.99, minutes(31), channel="kiosk"), replied("Hi there!", minutes(31)),
                      said(AYE, "goodbye", 0.42, minutes(30), channel="kiosk"), replied("Goodbye, take care!", minutes(30))],
        "web-policy": [said(SHRUG, "affirm", 0.9, minutes(20)), ActionExecuted("action_default_fallback", timestamp=minutes(20)),
                       replied("Sorry, I am not sure what you mean.", minutes(20))],
        "web-markup": [fell_back(MARKUP, minutes(10), "greet", 0.2, "thanks", 0.1)],
        "web-fine": [said("how much is a 60 minute massage", "ask_price", 0.97, minutes(5)), replied("It is 70.", minutes(5)),
                     said("/book_session", "book_session", 1.0, minutes(4))],
        "web-old": [fell_back("EXPIRED-WORDS gimme the thing", now - 40 * DAY, "ask_price", 0.2, "greet", 0.1)],
        "web-crisis": [said("CRISIS-WORDS i want to end my life", "report_crisis", 1.0, minutes(15),
                            entities=[{"entity": "crisis", "value": "suicide"}]),
                       fell_back("CRISIS-WORDS nobody would miss me", minutes(14), "deny", 0.2, "greet", 0.1)],
    }


def save(store: Any, sender: str, events: List[Event]) -> None:
    slots = [BooleanSlot(FORGET_SLOT, mappings=[])]
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, events, slots=slots)))


@pytest.fixture
def export_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "nlu" / "reviewed.yml"
    monkeypatch.setenv("REVIEW_EXPORT_PATH", str(path))
    monkeypatch.setenv("RETENTION_DAYS", "30")
    return path


@pytest.fixture
def tracker_store(tmp_path: Path) -> PrivateSQLTrackerStore:
    store = PrivateSQLTrackerStore(dialect="sqlite", db=str(tmp_path / "tracker.db"))
    now = time.time()
    for sender, events in conversations(now).items():
        save(store, sender, events)
    # "Forget me": the store deletes the conversation when the person confirms.
    forgotten = [fell_back("FORGOTTEN-WORDS my ex told me about you", now - 600, "greet", 0.2, "deny", 0.1),
                 SlotSet(FORGET_SLOT, True, timestamp=now - 590)]
    save(store, "web-forget", forgotten)
    # A conversation whose deletion never happened still shows the request: it is skipped whole.
    save(SQLTrackerStore(dialect="sqlite", db=str(tmp_path / "tracker.db")), "web-forget-stuck",
         [fell_back("STUCK-WORDS please forget me", now - 500, "greet", 0.2, "deny", 0.1),
          SlotSet(FORGET_SLOT, True, timestamp=now - 490)])
    return store


@pytest.fixture
def config(password_hash: str) -> StaffConfig:
    return StaffConfig(accounts={OWNER: password_hash, RECEPTION: password_hash}, roles={OWNER: "owner"},
                       secret_key=b"s" * 32)


@pytest.fixture
def server(database: str, export_file: Path, tracker_store: Any, config: StaffConfig) -> Iterator[InProcessServer]:
    app = build_app(config, {})
    app.ctx.agent = SimpleNamespace(tracker_store=tracker_store)  # what Rasa's server holds
    with InProcessServer(app) as running:
        yield running


def log_in(server: InProcessServer, name: str) -> requests.Session:
    return logged_in(server, PASSWORD, name)


def form_of(page: str, text: str) -> Dict[str, str]:
    """The action and hidden fields of the form under the message with this text."""
    article = next(a for a in re.findall(r"<article.*?</article>", page, flags=re.S) if text in a)
    action = re.search(r'<form method="post" action="([^"]+)"', article).group(1)
    return {"action": action, "csrf": csrf_in(article), "page": re.search(r'name="page" value="(\d+)"', article).group(1)}


def label(browser: requests.Session, server: InProcessServer, text: str, **fields: str) -> requests.Response:
    form = form_of(browser.get(f"{server.url}/staff/review").text, re.sub(r"<", "&lt;", text).replace(">", "&gt;"))
    return browser.post(server.url + form["action"], data={"csrf": form["csrf"], "page": form["page"], **fields},
                        allow_redirects=False)


def exported(path: Path) -> Dict[str, List[Any]]:
    """intent -> [(text, entities)] as Rasa itself reads the file."""
    found: Dict[str, List[Any]] = {}
    for message in RasaYAMLReader().read(str(path)).intent_examples:
        entities = [(e["entity"], e["value"]) for e in message.get("entities") or []]
        found.setdefault(message.get("intent"), []).append((message.get("text"), entities))
    return found


# -- what is listed ------------------------------------------------------------------------------

def test_which_messages_are_worth_a_review() -> None:
    limits = review.Thresholds(fallback=0.3, ambiguity=0.1, low_confidence=0.5)
    ranking = lambda *pairs: [{"name": n, "confidence": c} for n, c in pairs]  # noqa: E731
    fallback = {"intent": {"name": "nlu_fallback", "confidence": 0.3},
                "intent_ranking": ranking(("nlu_fallback", 0.3), ("ask_price", 0.2), ("greet", 0.1))}
    torn = {"intent": {"name": "nlu_fallback", "confidence": 0.3},
            "intent_ranking": ranking(("nlu_fallback", 0.3), ("deny", 0.53), ("affirm", 0.46))}
    unsure = {"intent": {"name": "goodbye", "confidence": 0.42}}
    sure = {"intent": {"name": "greet", "confidence": 0.97}}
    assert review.judge(fallback, False, limits) == ("fallback", "ask_price", 0.2, None)
    assert review.judge(torn, False, limits) == ("ambiguous", "deny", 0.53, "affirm")
    assert review.judge(unsure, False, limits) == ("low_confidence", "goodbye", 0.42, None)
    assert review.judge(sure, False, limits) is None
    assert review.judge(sure, True, limits) == ("fallback", "greet", 0.97, None)


def test_the_owner_sees_what_was_missed_with_the_guess_and_the_reply(server: InProcessServer) -> None:
    answer = log_in(server, OWNER).get(f"{server.url}/staff/review")
    assert answer.status_code == 200
    page = answer.text
    for text in (GIFT, TORN, AYE, SHRUG):
        assert text in page
    assert "5 messages to review" in page
    gift = next(a for a in re.findall(r"<article.*?</article>", page, flags=re.S) if GIFT in a)
    assert "It did not understand" in gift and "Prices" in gift and "(ask_price)</span>, 21% sure" in gift
    assert "Sorry, I did not catch that" in gift
    torn = next(a for a in re.findall(r"<article.*?</article>", page, flags=re.S) if TORN in a)
    assert "could not choose between two topics (No or Yes)" in torn
    aye = next(a for a in re.findall(r"<article.*?</article>", page, flags=re.S) if AYE in a)
    assert "It answered, but was unsure" in aye and "42% sure" in aye and "Goodbye, take care!" in aye
    assert page.index(SHRUG) < page.index(AYE) < page.index(GIFT)  # newest first
    assert 'href="/staff/review/reviewed.yml"' in page


def test_expired_forgotten_crisis_and_understood_messages_are_never_listed(server: InProcessServer) -> None:
    page = log_in(server, OWNER).get(f"{server.url}/staff/review").text
    for private in ("EXPIRED-WORDS", "FORGOTTEN-WORDS", "STUCK-WORDS", "CRISIS-WORDS", "how much is a 60", "/book_session"):
        assert private not in page, private


def test_typed_markup_is_shown_as_text_and_the_page_needs_no_inline_code(server: InProcessServer) -> None:
    answer = log_in(server, OWNER).get(f"{server.url}/staff/review")
    assert "<script>alert(1)" not in answer.text and "&lt;script&gt;alert(1)&lt;/script&gt; wot" in answer.text
    assert "script-src" not in answer.headers["Content-Security-Policy"]
    assert "style=" not in answer.text and "<script" not in answer.text.replace("&lt;script", "")
    for field in re.findall(r'<(?:select|input)[^>]*\bid="([^"]+)"', answer.text):
        assert f'<label for="{field}">' in answer.text, field


def test_the_list_is_paginated(database: str, export_file: Path, tmp_path: Path, config: StaffConfig) -> None:
    store = PrivateSQLTrackerStore(dialect="sqlite", db=str(tmp_path / "many.db"))
    now = time.time()
    save(store, "web-many", [fell_back(f"question number {i} about blorps", now - 1000 + i, "greet", 0.2, "deny", 0.1)
                             for i in range(review.PER_PAGE + 5)])
    app = build_app(config, {})
    app.ctx.agent = SimpleNamespace(tracker_store=store)
    with InProcessServer(app) as server:
        browser = log_in(server, OWNER)
        first = browser.get(f"{server.url}/staff/review").text
        second = browser.get(f"{server.url}/staff/review?page=2").text
        beyond = browser.get(f"{server.url}/staff/review?page=99").text
    assert first.count("<article") == review.PER_PAGE and second.count("<article") == 5
    assert 'rel="prev"' not in first and 'href="/staff/review?page=2" rel="next"' in first
    assert 'href="/staff/review?page=1" rel="prev"' in second and "Page 2 of 2" in second
    assert "question number 24 " in first and "question number 0 " in second and beyond.count("<article") == 5


# -- labelling -----------------------------------------------------------------------------------

def test_a_label_is_saved_written_to_reviewed_yml_and_the_message_leaves_the_list(
        server: InProcessServer, export_file: Path, database: str) -> None:
    browser = log_in(server, OWNER)
    answer = label(browser, server, AYE, intent="affirm")
    assert answer.status_code == 303 and answer.headers["Location"] == "/staff/review?saved=1&page=1"
    answer = label(browser, server, GIFT, intent="out_of_scope")
    assert answer.status_code == 303
    answer = label(browser, server, SHRUG, intent="describe_problem", body_part="hips", body_part_words="elbow")
    assert answer.status_code == 400  # the words are not in the message
    answer = label(browser, server, TORN, intent="deny", condition="fever", condition_words="alright")
    assert answer.status_code == 303
    page = browser.get(f"{server.url}/staff/review?saved=1").text
    assert "Saved." in page and "2 messages to review" in page
    assert AYE not in page and GIFT not in page and TORN not in page and SHRUG in page
    assert exported(export_file) == {"affirm": [(AYE, [])], "out_of_scope": [(GIFT, [])],
                                     "deny": [(TORN, [("condition", "alright")])]}
    text = export_file.read_text()
    assert 'version: "3.1"' in text and "- intent: affirm\n  examples: |\n    - aye go on then" in text
    assert "[alright](condition)" in text
    labels = {l.text: l for l in review.all_labels(database)}
    assert labels[AYE].labelled_by == OWNER and labels[AYE].guessed_intent == "goodbye"
    assert labels[TORN].entities == [{"entity": "condition", "value": "fever", "words": "alright"}]


def test_the_download_and_the_command_give_the_same_training_data(
        server: InProcessServer, export_file: Path, database: str) -> None:
    browser = log_in(server, OWNER)
    assert label(browser, server, AYE, intent="affirm").status_code == 303
    download = browser.get(f"{server.url}/staff/review/reviewed.yml")
    assert download.status_code == 200 and 'filename="reviewed.yml"' in download.headers["Content-Disposition"]
    export_file.unlink()
    assert review.main(["export", "--database-url", database]) == 0
    assert export_file.read_text() == download.text
    assert exported(export_file) == {"affirm": [(AYE, [])]}


def test_a_message_with_personal_details_can_be_dismissed_without_keeping_it(
        server: InProcessServer, export_file: Path, database: str) -> None:
    browser = log_in(server, OWNER)
    assert label(browser, server, GIFT, intent="_dismissed").status_code == 303
    assert GIFT not in browser.get(f"{server.url}/staff/review").text
    assert review.all_labels(database) == [] and "nlu: []" in export_file.read_text()
    assert GIFT not in export_file.read_text()


def test_a_form_with_mistakes_comes_back_with_the_error_next_to_it(server: InProcessServer) -> None:
    browser = log_in(server, OWNER)
    for fields, error in (({"intent": ""}, "Choose the topic"), ({"intent": "report_crisis"}, "Choose the topic"),
                          ({"intent": "greet", "condition": "not-a-condition", "condition_words": "wot"}, "choose one"),
                          ({"intent": "greet", "body_part": "hips", "body_part_words": "nowhere"}, "exactly as they appear")):
        answer = label(browser, server, MARKUP, **fields)
        assert answer.status_code == 400 and error in answer.text, fields
        assert 'aria-invalid="true"' in answer.text and 'role="alert"' in answer.text


def test_the_export_leaves_out_training_and_held_out_wordings_and_markup(tmp_path: Path) -> None:
    held_out = next(m.get("text") for m in RasaYAMLReader().read(str(PROJECT_ROOT / "tests/nlu/test_nlu.yml")).intent_examples)
    trained = next(m.get("text") for m in RasaYAMLReader().read(str(PROJECT_ROOT / "data/nlu/greet.yml")).intent_examples)
    labels = [SimpleNamespace(text=held_out.upper(), intent="greet", entities=[]),
              SimpleNamespace(text=trained, intent="deny", entities=[]),
              SimpleNamespace(text="see [this](condition) \n\n and {that}", intent="greet", entities=[]),
              SimpleNamespace(text="first wording", intent="greet", entities=[]),
              SimpleNamespace(text="First  wording", intent="deny", entities=[]),
              SimpleNamespace(text="no such topic here", intent="not_an_intent", entities=[])]
    found = review_export.examples(labels, review_export.taken_wordings(tmp_path / "reviewed.yml"),
                                   review_export.domain_intents())
    path = tmp_path / "reviewed.yml"
    review_export.write(path, review_export.nlu_yaml(found))
    assert exported(path) == {"greet": [("see (this)(condition) and {that}", [])], "deny": [("First wording", [])]}


def test_a_fresh_checkout_has_valid_empty_reviewed_examples() -> None:
    shipped = PROJECT_ROOT / "data" / "nlu" / "reviewed.yml"
    assert shipped.exists()
    RasaYAMLReader().read(str(shipped))  # raises on anything Rasa cannot use


def test_the_review_table_migrates_up_and_down_beside_the_bookings(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kb.db'}"
    migrate.upgrade(url)
    assert "review_labels" in inspect(get_engine(url)).get_table_names() and migrate.differences(url) == []
    migrate.downgrade(url, "0004")
    tables = inspect(get_engine(url)).get_table_names()
    assert "review_labels" not in tables and "booking_requests" in tables
    migrate.upgrade(url)
    assert migrate.differences(url) == []


def test_forgetting_a_conversation_deletes_its_labels(database: str) -> None:
    item = review.Missed(event_id=1, sender_id="web-1", timestamp=1.5, text="hi hi", channel="web", reason="fallback")
    review.save_label(item, "greet", [], OWNER, database)
    review.save_label(item, "deny", [], OWNER, database)  # again: the newer choice wins
    assert [(l.intent, l.text) for l in review.all_labels(database)] == [("deny", "hi hi")]
    assert review.forget("web-1", database) == 1 and review.all_labels(database) == []


def test_forget_me_takes_the_labels_out_of_the_training_data_too(database: str, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.retention import forget_bookings

    monkeypatch.setenv("REVIEW_EXPORT_PATH", str(tmp_path / "reviewed.yml"))
    item = review.Missed(event_id=1, sender_id="web-7", timestamp=1.5, text="do you sell candles", channel="web",
                         reason="fallback")
    review.save_label(item, "out_of_scope", [], OWNER, database)
    review_export.export(database, tmp_path / "reviewed.yml")
    assert "do you sell candles" in (tmp_path / "reviewed.yml").read_text()
    forget_bookings("web-7", database)
    assert review.all_labels(database) == []
    assert "do you sell candles" not in (tmp_path / "reviewed.yml").read_text()


# -- who may ------------------------------------------------------------------------------------

def test_reception_is_refused_on_every_review_route_and_method(server: InProcessServer, database: str) -> None:
    browser = log_in(server, RECEPTION)
    csrf = csrf_in(browser.get(f"{server.url}/staff/").text)
    page_id = review.find_missed(server.app.ctx.agent.tracker_store, review.Labelled(), time.time(), 30)[0][0].event_id
    for method, path in ROUTES:
        path = path.replace("/1", f"/{page_id}")
        answer = browser.request(method, server.url + path, data={"csrf": csrf, "intent": "greet"}, allow_redirects=False)
        assert answer.status_code == 403 and "Owners only" in answer.text, (method, path)
    assert review.all_labels(database) == []


def test_a_label_without_the_csrf_token_or_from_another_site_is_refused(server: InProcessServer, database: str) -> None:
    browser = log_in(server, OWNER)
    form = form_of(browser.get(f"{server.url}/staff/review").text, AYE)
    target = server.url + form["action"]
    assert browser.post(target, data={"intent": "affirm"}, allow_redirects=False).status_code == 403
    assert browser.post(target, data={"intent": "affirm", "csrf": "forged"}, allow_redirects=False).status_code == 403
    foreign = browser.post(target, data={"intent": "affirm", "csrf": form["csrf"]}, allow_redirects=False,
                           headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403
    assert requests.post(target, data={"intent": "affirm", "csrf": form["csrf"]}, allow_redirects=False).status_code == 303
    assert review.all_labels(database) == []


# -- after the retrain ---------------------------------------------------------------------------

@pytest.mark.slow
def test_a_labelled_message_is_understood_after_the_guarded_retrain(
        server: InProcessServer, export_file: Path, tmp_path: Path) -> None:
    """The whole loop: listed -> labelled on the page -> reviewed.yml -> `make train`'s guarded
    training (scripts/train-guarded.sh, here into a temporary folder) -> the new model answers it."""
    browser = log_in(server, OWNER)
    assert label(browser, server, AYE, intent="affirm").status_code == 303
    model = tmp_path / "models" / "model.tar.gz"
    data = [str(p) for p in sorted((PROJECT_ROOT / "data" / "nlu").glob("*.yml")) if p.name != "reviewed.yml"]
    run = subprocess.run(["scripts/train-guarded.sh", str(model), *data, str(export_file), "data/rules.yml"],
                         cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0 and "New model accepted" in run.stdout, run.stdout[-3000:] + run.stderr[-3000:]
    from tests.nlu.evaluate import _parse_all

    parse = asyncio.run(_parse_all(model, [AYE]))[0]
    assert parse["intent"]["name"] == "affirm" and parse["intent"]["confidence"] >= review.DEFAULT_LOW_CONFIDENCE

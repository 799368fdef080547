"""The owner's dashboard: the SVG charts, the figures counted from a tracker-store database
filled with a few conversations, the CSV downloads, and who may see them."""
from __future__ import annotations

import asyncio
import csv
import io
import logging
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, Iterator, List, Tuple

import pytest
import requests
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.analytics.figures import BOOK_PAYLOAD, RECOMMENDATION_MARK
from bot.retention import PrivateSQLTrackerStore
from bot.staff import charts, dashboard
from bot.staff.charts import BARS, COLUMNS, LINE, Chart, Series
from bot.staff.config import StaffConfig
from bot.staff.dashboard_figures import compute
from tests.staff.conftest import PASSWORD, InProcessServer, add_request, build_app

SVG = "{http://www.w3.org/2000/svg}"
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=timezone.utc)


def crisis_words() -> str:
    """A crisis message on purpose (the crisis sets' false-alarm scan skips what mentions crisis)."""
    return "CRISIS-WORDS I want to end my life"

PRIVATE_WORDS = ("CRISIS-WORDS", "lower back is stiff", "chest pain", "blorp", "how much is it")
OWNER, RECEPTION = "olive", "rick"


# -- the charts -----------------------------------------------------------------------------

def parsed(chart: Chart) -> ET.Element:
    return ET.fromstring(str(charts.svg(chart)))


def valued(root: ET.Element, tag: str) -> List[ET.Element]:
    return [e for e in root.iter(SVG + tag) if "data-value" in e.attrib]


def test_a_bar_chart_is_valid_svg_with_one_bar_per_category_in_proportion() -> None:
    chart = Chart("topics", "Topics people asked about", "Messages per topic.", BARS, "Topic",
                  ("Prices", "Benefits", "Aftercare"), (Series("Messages", (8, 4, 0)),))
    root = parsed(chart)
    assert root.tag == SVG + "svg" and root.get("role") == "img"
    assert root.get("aria-label") == "Topics people asked about" and root.get("width") == "100%"
    assert root.get("viewBox").startswith("0 0 600 ")
    assert root.find(SVG + "title").text == "Topics people asked about"
    assert root.find(SVG + "desc").text == "Messages per topic."
    bars = valued(root, "rect")
    assert [b.get("data-value") for b in bars] == ["8", "4", "0"]
    widths = [float(b.get("width")) for b in bars]
    assert widths[0] == pytest.approx(2 * widths[1]) and widths[2] == 0
    labels = [t.text for t in root.iter(SVG + "text")]
    assert {"Prices", "Benefits", "Aftercare", "8", "4", "0"} <= set(labels)


def test_stacked_columns_put_each_series_on_the_one_below() -> None:
    chart = Chart("conversations", "Conversations per day", "By channel.", COLUMNS, "Day",
                  ("2026-03-08", "2026-03-09", "2026-03-10"),
                  (Series("Website chat", (2, 0, 1)), Series("Reception kiosk", (1, 3, 0))),
                  axis_labels=("8 Mar", "9 Mar", "10 Mar"), unit="Conversations")
    root = parsed(chart)
    bars = valued(root, "rect")
    assert [(b.get("data-series"), b.get("data-value")) for b in bars] == [
        ("Website chat", "2"), ("Reception kiosk", "1"), ("Reception kiosk", "3"), ("Website chat", "1")]
    web, kiosk = bars[0], bars[1]
    assert float(kiosk.get("y")) + float(kiosk.get("height")) == pytest.approx(float(web.get("y")), abs=0.2)
    assert float(bars[2].get("height")) == pytest.approx(float(web.get("height")) * 1.5, abs=0.2)
    texts = [t.text for t in root.iter(SVG + "text")]
    assert {"Website chat", "Reception kiosk", "8 Mar", "10 Mar", "Conversations"} <= set(texts)
    assert bars[0].find(SVG + "title").text == "8 Mar · Website chat: 2"


def test_a_line_chart_has_a_point_per_day() -> None:
    chart = Chart("fallbacks", "Fallbacks per day", "Not understood.", LINE, "Day",
                  tuple(f"2026-03-{d:02d}" for d in range(1, 31)), (Series("Fallbacks", tuple(range(30))),))
    root = parsed(chart)
    (line,) = root.iter(SVG + "polyline")
    assert len(line.get("points").split()) == 30
    assert [c.get("data-value") for c in valued(root, "circle")] == [str(n) for n in range(30)]
    shown = [t.text for t in root.iter(SVG + "text") if t.text and t.text.startswith("2026-")]
    assert 0 < len(shown) <= charts.MAX_AXIS_LABELS  # the table has every day


def test_names_are_escaped_and_an_all_zero_chart_is_empty() -> None:
    chart = Chart("channels", "Per channel", "x", BARS, "Channel", ("<b>web</b> & co",), (Series("n", (0,)),))
    root = parsed(chart)
    assert "<b>web</b> & co" in [t.text for t in root.iter(SVG + "text")]
    assert chart.empty
    with pytest.raises(ValueError):
        Chart("x", "x", "x", BARS, "x", ("a", "b"), (Series("n", (1,)),))


def test_axis_ticks_are_round_numbers_past_the_largest_value() -> None:
    assert charts.nice_ticks(0) == [0, 1]
    assert charts.nice_ticks(3) == [0, 1, 2, 3]
    assert charts.nice_ticks(37) == [0, 10, 20, 30, 40]


def test_the_csv_holds_the_table_and_never_a_formula() -> None:
    chart = Chart("channels", "Per channel", "x", BARS, "Channel", ("Website chat", "=HYPERLINK(1)"),
                  (Series("Conversations", (3, 1)),), notes=("75%", "25%"), note_heading="Share of conversations")
    assert list(csv.reader(io.StringIO(charts.csv_text(chart)))) == [
        ["Channel", "Conversations", "Share of conversations"], ["Website chat", "3", "75%"],
        ["'=HYPERLINK(1)", "1", "25%"]]


def test_every_intent_of_the_domain_reads_as_words() -> None:
    import yaml

    intents = yaml.safe_load((Path(__file__).resolve().parents[2] / "domain.yml").read_text())["intents"]
    names = [i if isinstance(i, str) else next(iter(i)) for i in intents]
    assert not [i for i in names if "_" in dashboard.topic_label(i) or not dashboard.topic_label(i)]
    assert dashboard.topic_label("ask_price") == "Prices"
    assert dashboard.topic_label("ask_spa_towels") == "Spa towels"  # one added later, before it has a label


# -- counting from the tracker store ---------------------------------------------------------

def said(text: str, intent: str, when: datetime, channel: str, *entities: Dict[str, Any]) -> UserUttered:
    parse = {"intent": {"name": intent, "confidence": 0.9}, "entities": list(entities), "text": text}
    return UserUttered(text, intent=parse["intent"], entities=list(entities), parse_data=parse,
                       timestamp=when.timestamp(), input_channel=channel)


def replied(text: str, when: datetime, *payloads: str) -> BotUttered:
    return BotUttered(text, data={"buttons": [{"title": p, "payload": p} for p in payloads]}, timestamp=when.timestamp())


def acted(name: str, when: datetime) -> ActionExecuted:
    return ActionExecuted(name, timestamp=when.timestamp())


def conversations(now: datetime) -> Dict[str, List[Event]]:
    """Five conversations: four in the last 30 days (web twice, kiosk, REST), one 40 days ago."""
    def at(days_ago: int, minute: int) -> datetime:
        return now - timedelta(days=days_ago) + timedelta(minutes=minute)

    recommendation = f"Swedish massage would suit you. {RECOMMENDATION_MARK}?"
    return {
        "web-1": [
            said("hello", "greet", at(1, 0), "web"), replied("Hi!", at(1, 0)), acted("action_listen", at(1, 0)),
            said("my lower back is stiff", "describe_problem", at(1, 1), "web",
                 {"entity": "body_part", "value": "lower_back"}),
            acted("action_recommend", at(1, 1)), replied(recommendation, at(1, 1), "/ask_why", f"{BOOK_PAYLOAD}"),
            said("what are the benefits", "ask_benefits", at(1, 2), "web"), replied("Many.", at(1, 2)),
            said("/book_session", "book_session", at(1, 3), "web"),
        ],
        "web-2": [
            said("how often should I come", "ask_frequency", at(1, 5), "web"), replied("Monthly.", at(1, 5)),
            said("how often again", "ask_frequency", at(0, -30), "web"),
        ],
        "kiosk-1": [
            said("how much is it", "ask_price", at(2, 0), "kiosk"),
            said("blorp", "nlu_fallback", at(2, 1), "kiosk"), acted("action_short_answer", at(2, 1)),
            said("I have chest pain", "describe_problem", at(2, 2), "kiosk", {"entity": "red_flag", "value": "chest_pain"}),
            said("I have a fever", "describe_problem", at(2, 3), "kiosk", {"entity": "condition", "value": "fever"}),
            said("no chest pain at all", "describe_problem", at(2, 4), "kiosk",
                 {"entity": "red_flag", "value": "chest_pain", "role": "negated"}),
        ],
        "rest-1": [
            said(crisis_words(), "report_crisis", at(0, -20), "rest", {"entity": "crisis", "value": "suicide"}),
            replied("Please call the crisis line now.", at(0, -20)),
            said("what are the benefits", "ask_benefits", at(0, -10), "rest"),
        ],
        "old-1": [said("how much is it", "ask_price", at(40, 0), "web")],
    }


def fill_tracker_store(path: Path, now: datetime) -> PrivateSQLTrackerStore:
    store = PrivateSQLTrackerStore(dialect="sqlite", db=str(path))
    for sender, events in conversations(now).items():
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))
    return store


def add_bookings(database: str, now: datetime) -> None:
    utc = now.replace(tzinfo=None)
    confirmed = add_request(database, sender_id="web-1", channel="web", now=utc - timedelta(days=1))
    from bot.booking import store

    store.set_status(confirmed.code, "confirmed", url=database)
    add_request(database, sender_id="web-2", channel="web", now=utc)
    add_request(database, sender_id="kiosk-1", channel="kiosk", now=utc - timedelta(days=50))


@pytest.fixture
def filled(tmp_path: Path, database: str) -> Tuple[PrivateSQLTrackerStore, str]:
    store = fill_tracker_store(tmp_path / "tracker.db", NOW)
    add_bookings(database, NOW)
    return store, database


def test_counting_without_the_text_gives_the_consumers_metrics() -> None:
    from bot.analytics.figures import count, count_without_text
    from tests.safety.crisis_sets import crisis_cases

    events = [e.as_dict() for conversation in conversations(NOW).values() for e in conversation]
    events += [said(case["text"], "nlu_fallback", NOW, "web").as_dict() for case in crisis_cases()[:20]]
    events.append({"event": "action", "name": "action_default_fallback", "timestamp": NOW.timestamp()})
    for event in events:
        without = count_without_text(event, {"fever"})
        assert without.metrics == count(event, {"fever"}, "said before").metrics
        assert without.fallback_text is None and without.channel == event.get("input_channel")


def test_the_figures_count_conversations_topics_safety_and_the_funnel(filled: Tuple[Any, str]) -> None:
    store, database = filled
    tally = compute(store.engine, database, 30, today=NOW.date())
    assert tally.days[0] == "2026-02-09" and tally.days[-1] == "2026-03-10" and len(tally.days) == 30
    assert tally.conversations == 4 and tally.messages == 13
    assert dict(tally.per_channel) == {"web": 2, "kiosk": 1, "rest": 1}
    assert dict(tally.per_day["web"]) == {"2026-03-09": 2, "2026-03-10": 1}
    assert dict(tally.per_day["kiosk"]) == {"2026-03-08": 1} and dict(tally.per_day["rest"]) == {"2026-03-10": 1}
    assert dict(tally.intents) == {"greet": 1, "describe_problem": 4, "ask_benefits": 2, "book_session": 1,
                                   "ask_frequency": 2, "ask_price": 1, "nlu_fallback": 1}  # the crisis message is not a topic
    assert (tally.total("red_flags"), tally.total("absolute_contraindications")) == (1, 1)  # the negated one is not
    assert tally.total("crisis_replies") == 1 and tally.total("crisis_suicide") == 1
    assert tally.total("fallbacks") == 1 and tally.daily("fallbacks")[-3] == 1
    assert (tally.recommended, tally.offered, tally.requested, tally.confirmed) == (1, 1, 2, 1)


def test_a_longer_period_reaches_further_back(filled: Tuple[Any, str]) -> None:
    store, database = filled
    tally = compute(store.engine, database, 90, today=NOW.date())
    assert tally.conversations == 5 and tally.per_channel["web"] == 3 and tally.intents["ask_price"] == 2
    assert tally.requested == 3
    week = compute(store.engine, database, 7, today=NOW.date())
    assert week.conversations == 4 and len(week.days) == 7


def test_the_charts_built_from_the_figures(filled: Tuple[Any, str]) -> None:
    store, database = filled
    built = {c.key: c for c in dashboard.build_charts(compute(store.engine, database, 30, today=NOW.date()))}
    assert tuple(built) == dashboard.CHART_KEYS
    assert [s.name for s in built["conversations"].series] == ["Website chat", "Reception kiosk", "REST API"]
    assert built["topics"].rows()[:3] == [["How they feel (advice)", "4"], ["Benefits", "2"], ["How often to come", "2"]]
    assert "Greeting" not in built["topics"].categories and "Crisis" not in built["topics"].categories
    assert built["funnel"].rows() == [["Recommendation given", "1", "25%"], ["Booking offered", "1", "25%"],
                                      ["Booking request made", "2", "50%"], ["Request confirmed", "1", "25%"]]
    assert built["safety"].rows()[-1] == ["2026-03-10", "0", "0", "1"]
    for chart in built.values():
        ET.fromstring(str(charts.svg(chart)))


def test_counting_logs_no_message_text(filled: Tuple[Any, str], caplog: pytest.LogCaptureFixture) -> None:
    store, database = filled
    with caplog.at_level(logging.DEBUG):
        compute(store.engine, database, 30, today=NOW.date())
    assert "events" in caplog.text and not any(words in caplog.text for words in PRIVATE_WORDS)


def test_one_count_per_period_while_it_is_fresh() -> None:
    calls: List[int] = []
    clock = [0.0]

    async def work() -> Any:
        calls.append(1)
        await asyncio.sleep(0.01)
        return SimpleNamespace(n=len(calls))

    async def scenario() -> None:
        cache = dashboard.FigureCache(seconds=60, clock=lambda: clock[0])
        first, second = await asyncio.gather(cache.get((30,), work), cache.get((30,), work))
        assert first is second and len(calls) == 1
        await cache.get((7,), work)
        assert len(calls) == 2
        clock[0] = 61.0
        assert (await cache.get((30,), work)).n == 3

    asyncio.run(scenario())


@pytest.mark.parametrize("value,expected", [(None, 30), ("", 30), ("7", 7), ("90", 90), ("14", None),
                                            ("abc", None), ("-7", None), ("7.0", None), ("30 ", None)])
def test_the_period_is_one_the_page_offers(value: Any, expected: Any) -> None:
    assert dashboard.parse_period(value) == expected


# -- over HTTP ----------------------------------------------------------------------------------

def csrf_in(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def logged_in(server: InProcessServer, user: str) -> requests.Session:
    browser = requests.Session()
    form = browser.get(f"{server.url}/staff/login")
    answer = browser.post(f"{server.url}/staff/login", allow_redirects=False,
                          data={"csrf": csrf_in(form.text), "username": user, "password": PASSWORD})
    assert answer.status_code == 303
    return browser


@pytest.fixture
def roles_config(password_hash: str) -> StaffConfig:
    return StaffConfig(accounts={OWNER: password_hash, RECEPTION: password_hash},
                       roles={OWNER: "owner", RECEPTION: "reception"}, secret_key=b"s" * 32)


def serve(config: StaffConfig, store: Any) -> InProcessServer:
    app = build_app(config, {})
    if store is not None:
        app.ctx.agent = SimpleNamespace(tracker_store=store)  # what Rasa's server holds
    return InProcessServer(app)


@pytest.fixture
def dashboard_server(tmp_path: Path, database: str, roles_config: StaffConfig) -> Iterator[InProcessServer]:
    now = datetime.now(timezone.utc)
    store = fill_tracker_store(tmp_path / "tracker.db", now)
    add_bookings(database, now)
    with serve(roles_config, store) as server:
        yield server


ROUTES = ("/staff/dashboard", "/staff/dashboard?days=7", "/staff/dashboard?days=bad",
          *(f"/staff/dashboard/{key}.csv" for key in dashboard.CHART_KEYS), "/staff/dashboard/nothing.csv")


def test_the_owner_sees_every_chart_and_no_message_text(dashboard_server: InProcessServer) -> None:
    answer = logged_in(dashboard_server, OWNER).get(f"{dashboard_server.url}/staff/dashboard")
    assert answer.status_code == 200
    assert "script-src" not in answer.headers["Content-Security-Policy"] and "style=" not in answer.text
    svgs = re.findall(r"<svg .*?</svg>", answer.text, flags=re.S)
    assert len(svgs) == len(dashboard.CHART_KEYS)
    for svg in svgs:
        ET.fromstring(svg)
    for key in dashboard.CHART_KEYS:
        assert f'href="/staff/dashboard/{key}.csv?days=30"' in answer.text
    assert answer.text.count("<div class=\"sr\">\n  <table>") == len(dashboard.CHART_KEYS)
    assert 'aria-current="page">Last 30 days' in answer.text
    assert not any(words in answer.text for words in PRIVATE_WORDS)


def test_the_csv_of_a_chart(dashboard_server: InProcessServer) -> None:
    browser = logged_in(dashboard_server, OWNER)
    answer = browser.get(f"{dashboard_server.url}/staff/dashboard/funnel.csv", params={"days": "7"})
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/csv")
    assert re.fullmatch(r'attachment; filename="dashboard-funnel-\d{4}-\d\d-\d\d-to-\d{4}-\d\d-\d\d\.csv"',
                        answer.headers["Content-Disposition"])
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows == [["Step", "Conversations", "Share of conversations"], ["Recommendation given", "1", "25%"],
                    ["Booking offered", "1", "25%"], ["Booking request made", "2", "50%"],
                    ["Request confirmed", "1", "25%"]]
    per_day = list(csv.reader(io.StringIO(browser.get(f"{dashboard_server.url}/staff/dashboard/safety.csv")
                                          .content.decode("utf-8-sig"))))
    assert per_day[0] == ["Day (UTC)", "Red flags", "Absolute contraindications", "Crisis replies"]
    assert len(per_day) == 31 and sum(int(row[3]) for row in per_day[1:]) == 1
    for key in dashboard.CHART_KEYS:
        text = browser.get(f"{dashboard_server.url}/staff/dashboard/{key}.csv").text
        assert not any(words in text for words in PRIVATE_WORDS)


def test_reception_is_refused_every_dashboard_route(dashboard_server: InProcessServer) -> None:
    browser = logged_in(dashboard_server, RECEPTION)
    for path in ROUTES:
        answer = browser.get(dashboard_server.url + path, allow_redirects=False)
        assert answer.status_code == 403 and "Owners only" in answer.text, path
    assert browser.get(f"{dashboard_server.url}/staff/").status_code == 200


def test_nobody_logged_in_is_sent_to_the_login(dashboard_server: InProcessServer) -> None:
    for path in ROUTES:
        answer = requests.get(dashboard_server.url + path, allow_redirects=False)
        assert answer.status_code == 303 and answer.headers["Location"].startswith("/staff/login?next="), path


def test_an_unknown_period_or_chart_is_refused(dashboard_server: InProcessServer) -> None:
    browser = logged_in(dashboard_server, OWNER)
    for path in ("/staff/dashboard?days=14", "/staff/dashboard?days=%3Cb%3E", "/staff/dashboard/topics.csv?days=365"):
        answer = browser.get(dashboard_server.url + path)
        assert answer.status_code == 400 and "7, 30 or 90 days" in answer.text, path
    for path in ("/staff/dashboard/nothing.csv", "/staff/dashboard/topics", "/staff/dashboard/topics.txt"):
        assert browser.get(dashboard_server.url + path).status_code == 404, path


def test_with_no_conversations_yet_the_page_says_so(tmp_path: Path, database: str, roles_config: StaffConfig) -> None:
    with serve(roles_config, PrivateSQLTrackerStore(dialect="sqlite", db=str(tmp_path / "empty.db"))) as server:
        browser = logged_in(server, OWNER)
        page = browser.get(f"{server.url}/staff/dashboard?days=7")
        assert page.status_code == 200 and "Nothing to show yet" in page.text and "<svg" not in page.text
        rows = list(csv.reader(io.StringIO(browser.get(f"{server.url}/staff/dashboard/topics.csv").text.lstrip("\ufeff"))))
        assert rows == [["Topic", "Messages"]]


def test_without_an_sql_tracker_store_the_page_explains(database: str, roles_config: StaffConfig) -> None:
    with serve(roles_config, None) as server:
        answer = logged_in(server, OWNER).get(f"{server.url}/staff/dashboard")
        assert answer.status_code == 503 and "cannot be read yet" in answer.text

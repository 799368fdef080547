"""SMS has no buttons: options are numbered, and a number picks the option."""
from bot.channels.numbered import last_buttons, numbered_text, resolve_numbered_reply

BUTTONS = [{"title": "Relax", "payload": '/describe_problem{"goal": "stress_relief"}'},
           {"title": "Not sure", "payload": "/deny"}]


def test_options_are_numbered_in_the_same_message() -> None:
    assert numbered_text("What would you like?", BUTTONS) == (
        "What would you like?\nReply with a number:\n1. Relax\n2. Not sure")


def test_a_number_becomes_the_options_payload() -> None:
    assert resolve_numbered_reply(" 2 ", BUTTONS) == "/deny"
    assert resolve_numbered_reply("1.", BUTTONS) == BUTTONS[0]["payload"]


def test_other_replies_and_out_of_range_numbers_are_left_alone() -> None:
    assert resolve_numbered_reply("3", BUTTONS) == "3"
    assert resolve_numbered_reply("my neck hurts", BUTTONS) == "my neck hurts"
    assert resolve_numbered_reply("2", []) == "2"


def test_only_the_latest_bot_message_counts() -> None:
    events = [{"event": "bot", "data": {"buttons": BUTTONS}}, {"event": "user"}, {"event": "bot", "data": {}}]
    assert last_buttons(events) == []
    assert last_buttons(events[:2]) == BUTTONS

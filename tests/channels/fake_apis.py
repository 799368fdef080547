"""A local stand-in for the Telegram, Twilio and Slack APIs that records every call made to it."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List
from urllib.parse import parse_qs

TELEGRAM_BOT_NAME = "spa_test_bot"


class FakeApis:
    def __init__(self) -> None:
        self.calls: List[Dict[str, Any]] = []
        self.lock = threading.Lock()
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "FakeApis":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()

    def calls_to(self, fragment: str) -> List[Dict[str, Any]]:
        with self.lock:
            return [c for c in self.calls if fragment in c["path"]]

    def _handler(self) -> type:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8", "replace")
                if "json" in (self.headers.get("Content-Type") or ""):
                    body = json.loads(raw or "{}")
                else:
                    body = {k: v[0] for k, v in parse_qs(raw).items()}
                with fake.lock:
                    fake.calls.append({"path": self.path, "body": body})
                status, answer = respond(self.path, body)
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST

        return Handler


def respond(path: str, body: Dict[str, Any]) -> tuple:
    if path.endswith("/getMe"):
        return 200, {"ok": True, "result": {"id": 42, "is_bot": True, "first_name": "Spa",
                                            "username": TELEGRAM_BOT_NAME}}
    if path.endswith("/setWebhook"):
        return 200, {"ok": True, "result": True}
    if path.endswith("/sendMessage"):
        return 200, {"ok": True, "result": {"message_id": 1, "date": 0,
                                            "chat": {"id": int(body.get("chat_id", 1)), "type": "private"},
                                            "text": body.get("text", "")}}
    if path.endswith("/Messages.json"):
        return 201, {"sid": "SM00000000000000000000000000000000", "status": "queued", "body": body.get("Body"),
                     "to": body.get("To"), "from": body.get("From")}
    if "/api/" in path:
        return 200, {"ok": True, "channel": body.get("channel", "C1"), "ts": "1700000000.000100"}
    return 404, {"ok": False}

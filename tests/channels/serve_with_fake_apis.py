"""Run the Rasa server (as bot.server runs it: patches and security hooks applied) with the
messaging apps' HTTP clients pointed at a local fake API server.

Usage: FAKE_API_URL=http://127.0.0.1:PORT python -m tests.channels.serve_with_fake_apis run ...
Only the hosts of Telegram, Slack and Twilio are rewritten; everything else is untouched.
"""
from __future__ import annotations

import os
import sys

import aiohttp
from twilio.http.http_client import TwilioHttpClient

FAKE = os.environ["FAKE_API_URL"].rstrip("/")
REAL_HOSTS = ("https://api.telegram.org", "https://www.slack.com", "https://slack.com", "https://api.twilio.com")


def _redirect(url: str) -> str:
    for host in REAL_HOSTS:
        if url.startswith(host):
            return FAKE + url[len(host):]
    return url


_aiohttp_request = aiohttp.ClientSession._request


async def _request(self, method, str_or_url, **kwargs):  # type: ignore[no-untyped-def]
    return await _aiohttp_request(self, method, _redirect(str(str_or_url)), **kwargs)


_twilio_request = TwilioHttpClient.request


def _twilio(self, method, url, *args, **kwargs):  # type: ignore[no-untyped-def]
    return _twilio_request(self, method, _redirect(url), *args, **kwargs)


aiohttp.ClientSession._request = _request
TwilioHttpClient.request = _twilio

if __name__ == "__main__":
    from bot.server import main

    sys.argv = ["rasa", *sys.argv[1:]]
    main()

"""What the benchmark measures on running servers: latency one message at a time, per-turn
kind, a long conversation, and concurrent conversations."""
from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from typing import Any, Dict, List, Optional, Sequence, Tuple

import aiohttp
import requests

from bench.servers import API_TOKEN, Servers

API = {"token": API_TOKEN}

PARSE_SAMPLES = 200
LONG_TURNS = (1, 10, 50, 100)
LONG_CONVERSATIONS = 3
MESSAGE_LENGTHS = (1_000, 10_000, 100_000)
LONG_TEXT = "my lower back is stiff from sitting all day and i can't sleep, no fever. "
DEFAULT_ACTIONS = {"action_listen", "action_session_start", "action_restart", "action_default_fallback",
                   "action_deactivate_loop", "action_revert_fallback_events", "action_default_ask_affirmation",
                   "action_default_ask_rephrase", "action_back", "action_two_stage_fallback",
                   "action_unlikely_intent", "action_extract_slots"}


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def _post_reply(http: requests.Session, url: str, sender: str, message: str) -> Tuple[float, bool]:
    started = time.perf_counter()
    response = http.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=60)
    elapsed = (time.perf_counter() - started) * 1000
    return elapsed, bool(response.ok and response.json())


def parse_latency(servers: Servers, scripts: List[List[str]]) -> Dict[str, float]:
    texts = [m for script in scripts for m in script]
    texts = (texts * (PARSE_SAMPLES // max(1, len(texts)) + 1))[:PARSE_SAMPLES]
    times, errors = [], 0
    with requests.Session() as http:
        for text in texts:
            started = time.perf_counter()
            errors += not http.post(f"{servers.url}/model/parse", params=API, json={"text": text}, timeout=60).ok
            times.append((time.perf_counter() - started) * 1000)
    return {"parse_p50_ms": percentile(times, 50), "parse_p95_ms": percentile(times, 95), "parse_errors": errors}


def nlu_quality(servers: Servers) -> Dict[str, float]:
    """Intent and entity scores on the held-out set (tests/nlu/evaluate.py), parsed by the served
    model: the same `parse_message` as loading the model here, without loading it a second time."""
    from tests.nlu.evaluate import load_examples, score

    examples = load_examples()
    with requests.Session() as http:
        parses = [http.post(f"{servers.url}/model/parse", params=API, json={"text": text}, timeout=60).json()
                  for text, _, _ in examples]
    quality = score(examples, parses)
    return {"intent_accuracy": quality.intent_accuracy, "intent_macro_f1": quality.intent_macro_f1,
            "entity_f1": quality.entity_f1}


def parse_by_length(servers: Servers, repeats: int = 3) -> Dict[str, float]:
    """/model/parse time for very long messages: NLU must stay linear (or capped) in length."""
    results: Dict[str, float] = {}
    with requests.Session() as http:
        for length in MESSAGE_LENGTHS:
            text = (LONG_TEXT * (length // len(LONG_TEXT) + 1))[:length]
            times = []
            for _ in range(repeats):
                started = time.perf_counter()
                http.post(f"{servers.url}/model/parse", params=API, json={"text": text}, timeout=300).raise_for_status()
                times.append((time.perf_counter() - started) * 1000)
            results[f"parse_{length // 1000}k_ms"] = statistics.median(times)
    return results


SMALL_TALK = {"greet", "goodbye", "thanks", "bot_challenge"}


def turn_kinds(servers: Servers, sender: str) -> List[str]:
    """For each user message of a conversation: "small_talk" (greet/thanks/bye, answered by a
    template or, in ours, by action_small_talk), "custom" (any other turn that ran a custom
    action) or "template" (any other turn answered by templates only)."""
    tracker = requests.get(f"{servers.url}/conversations/{sender}/tracker", params=API, timeout=60).json()
    kinds: List[str] = []
    for event in tracker.get("events", []):
        if event.get("event") == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            kinds.append("small_talk" if intent in SMALL_TALK else "template")
        elif event.get("event") == "action" and kinds and kinds[-1] == "template":
            name = event.get("name") or ""
            if not name.startswith("utter_") and name not in DEFAULT_ACTIONS:
                kinds[-1] = "custom"
    return kinds


def sequential(servers: Servers, scripts: List[List[str]]) -> Dict[str, Any]:
    """Every scripted conversation, one message at a time; CPU per reply; template vs custom turns."""
    latencies: List[float] = []
    by_kind: Dict[str, List[float]] = {"small_talk": [], "template": [], "custom": []}
    errors = 0
    cpu_before = servers.cpu()
    with requests.Session() as http:
        senders = []
        for script in scripts:
            sender = uuid.uuid4().hex
            senders.append((sender, []))
            for message in script:
                elapsed, ok = _post_reply(http, servers.url, sender, message)
                latencies.append(elapsed)
                senders[-1][1].append(elapsed)
                errors += not ok
    cpu_after = servers.cpu()
    for sender, times in senders:
        for kind, elapsed in zip(turn_kinds(servers, sender), times):
            by_kind[kind].append(elapsed)
    replies = len(latencies)
    return {
        "e2e_messages": replies, "e2e_p50_ms": percentile(latencies, 50), "e2e_p95_ms": percentile(latencies, 95),
        "e2e_p99_ms": percentile(latencies, 99), "e2e_errors": errors,
        **{f"{kind}_turns": len(times) for kind, times in by_kind.items()},
        **{f"{kind}_p50_ms": statistics.median(times) if times else None for kind, times in by_kind.items()},
        "rasa_cpu_ms_per_reply": (cpu_after[0] - cpu_before[0]) * 1000 / replies,
        "actions_cpu_ms_per_reply": (cpu_after[1] - cpu_before[1]) * 1000 / replies if servers.actions else None,
    }


def long_conversation(servers: Servers, scripts: List[List[str]], probe: str) -> Dict[str, float]:
    """Reply latency at turns 1, 10, 50 and 100 of one conversation: the same probe message at each
    of those turns, the scripted messages in between; the median over a few conversations."""
    filler = [m for script in scripts for m in script]
    senders = [uuid.uuid4().hex for _ in range(LONG_CONVERSATIONS)]
    at_turn: Dict[int, List[float]] = {turn: [] for turn in LONG_TURNS}
    with requests.Session() as http:
        for turn in range(1, max(LONG_TURNS) + 1):
            message = probe if turn in at_turn else filler[turn % len(filler)]
            for sender in senders:
                elapsed, _ = _post_reply(http, servers.url, sender, message)
                if turn in at_turn:
                    at_turn[turn].append(elapsed)
    return {f"turn{turn}_ms": statistics.median(times) for turn, times in at_turn.items()}


async def _visitor(http: aiohttp.ClientSession, url: str, scripts: List[List[str]], start_index: int,
                   deadline: float, latencies: List[float], errors: List[int]) -> None:
    index = start_index
    while time.monotonic() < deadline:
        sender = uuid.uuid4().hex
        for message in scripts[index % len(scripts)]:
            if time.monotonic() >= deadline:
                return
            started = time.perf_counter()
            try:
                async with http.post(f"{url}/webhooks/rest/webhook",
                                     json={"sender": sender, "message": message}) as response:
                    body = await response.json()
                    if response.status != 200 or not body:
                        errors.append(1)
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
                errors.append(1)
            latencies.append((time.perf_counter() - started) * 1000)
        index += 1


async def _load(url: str, scripts: List[List[str]], visitors: int, seconds: float) -> Tuple[List[float], int, float]:
    latencies: List[float] = []
    errors: List[int] = []
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=visitors)) as http:
        started = time.monotonic()
        await asyncio.gather(*(_visitor(http, url, scripts, i, started + seconds, latencies, errors)
                               for i in range(visitors)))
        elapsed = time.monotonic() - started
    return latencies, len(errors), elapsed


def load(servers: Servers, scripts: List[List[str]], visitors: int, seconds: float,
         prefix: Optional[str] = None) -> Dict[str, float]:
    """`visitors` conversations at once, each replaying scripts back to back for `seconds`."""
    cpu_before = servers.cpu()
    latencies, errors, elapsed = asyncio.run(_load(servers.url, scripts, visitors, seconds))
    cpu_after = servers.cpu()
    replies = max(1, len(latencies))
    prefix = prefix or f"load{visitors}"
    return {
        f"{prefix}_msgs_per_s": len(latencies) / elapsed, f"{prefix}_p50_ms": percentile(latencies, 50),
        f"{prefix}_p95_ms": percentile(latencies, 95), f"{prefix}_messages": len(latencies),
        f"{prefix}_errors": errors,
        f"{prefix}_rasa_cpu_ms_per_reply": (cpu_after[0] - cpu_before[0]) * 1000 / replies,
        f"{prefix}_actions_cpu_ms_per_reply": ((cpu_after[1] - cpu_before[1]) * 1000 / replies
                                               if servers.actions else None),
    }

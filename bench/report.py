"""The benchmark's table: three columns, the issue's targets marked met or MISSED."""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

# Scores before the performance work: "NLU quality unchanged" means not below these by more than
# one message in 300. Intents: config.yml's model on the held-out set (bench/RESULTS.md of
# 2026-11-27). Entities come from the knowledge-base matcher, not from training: its code and
# vocabulary as of commit ebce1bb (the last before this work) on today's held-out set; the 0.971
# of 2026-11-27 was scored against labels since aligned with the knowledge base (commit 5137ab2).
NLU_BASELINE = {"intent_accuracy": 0.963, "intent_macro_f1": 0.967, "entity_f1": 0.965}
NLU_TOLERANCE = 0.004

Results = Dict[str, Dict[str, Any]]
Target = Tuple[str, Callable[[Results], Optional[bool]]]


def _ratio(results: Results, key: str, other: str, limit: float) -> Optional[bool]:
    a, b = results["ours"].get(key), results.get(other, {}).get(key)
    return None if a is None or b is None else a <= limit * b


def _value(key: str, check: Callable[[float], bool]) -> Callable[[Results], Optional[bool]]:
    return lambda results: None if results["ours"].get(key) is None else check(results["ours"][key])


TARGETS: Dict[str, Target] = {
    "intent_accuracy": (f">= {NLU_BASELINE['intent_accuracy']} (before)",
                        _value("intent_accuracy", lambda v: v >= NLU_BASELINE["intent_accuracy"] - NLU_TOLERANCE)),
    "intent_macro_f1": (f">= {NLU_BASELINE['intent_macro_f1']} (before)",
                        _value("intent_macro_f1", lambda v: v >= NLU_BASELINE["intent_macro_f1"] - NLU_TOLERANCE)),
    "entity_f1": (f">= {NLU_BASELINE['entity_f1']} (before)",
                  _value("entity_f1", lambda v: v >= NLU_BASELINE["entity_f1"] - NLU_TOLERANCE)),
    "train_s": ("<= 100 s", _value("train_s", lambda v: v <= 100)),
    "e2e_p50_ms": ("<= 0.6x init", lambda r: _ratio(r, "e2e_p50_ms", "init", 0.6)),
    "e2e_p95_ms": ("<= 0.6x init", lambda r: _ratio(r, "e2e_p95_ms", "init", 0.6)),
    "e2e_errors": ("0", _value("e2e_errors", lambda v: v == 0)),
    "custom_p50_ms": ("<= 1.3x greet/thanks/bye",
                      lambda r: None if None in (r["ours"].get("custom_p50_ms"), r["ours"].get("small_talk_p50_ms"))
                      else r["ours"]["custom_p50_ms"] <= 1.3 * r["ours"]["small_talk_p50_ms"]),
    "turn100_ms": ("<= 1.3x turn 1", lambda r: r["ours"]["turn100_ms"] <= 1.3 * r["ours"]["turn1_ms"]
                   if "turn100_ms" in r["ours"] else None),
    "load20_msgs_per_s": (">= 80", _value("load20_msgs_per_s", lambda v: v >= 80)),
    "load20_p95_ms": ("<= 300 ms", _value("load20_p95_ms", lambda v: v <= 300)),
    "load20_errors": ("0", _value("load20_errors", lambda v: v == 0)),
    "rasa_peak_rss_mb": ("<= 900 MB", _value("rasa_peak_rss_mb", lambda v: v <= 900)),
    "cold_start_s": ("<= 10 s", _value("cold_start_s", lambda v: v <= 10)),
}

ROWS: List[Tuple[str, str, str]] = [
    ("intent_accuracy", "NLU intent accuracy (held-out)", "{:.3f}"),
    ("intent_macro_f1", "NLU intent macro F1", "{:.3f}"),
    ("entity_f1", "NLU entity F1 (strict span)", "{:.3f}"),
    ("train_s", "training time (s)", "{:.0f}"),
    ("cold_start_s", "cold start to first reply (s)", "{:.1f}"),
    ("parse_p50_ms", "/model/parse p50 (ms)", "{:.1f}"),
    ("parse_p95_ms", "/model/parse p95 (ms)", "{:.1f}"),
    ("parse_1k_ms", "/model/parse, 1,000 characters (ms)", "{:.0f}"),
    ("parse_10k_ms", "/model/parse, 10,000 characters (ms)", "{:.0f}"),
    ("parse_100k_ms", "/model/parse, 100,000 characters (ms)", "{:.0f}"),
    ("e2e_p50_ms", "reply p50, sequential (ms)", "{:.1f}"),
    ("e2e_p95_ms", "reply p95, sequential (ms)", "{:.1f}"),
    ("e2e_p99_ms", "reply p99, sequential (ms)", "{:.1f}"),
    ("e2e_errors", "errors, sequential", "{:.0f}"),
    ("small_talk_p50_ms", "greet/thanks/bye turn median (ms) [1]", "{:.1f}"),
    ("custom_p50_ms", "other custom-action turn median (ms)", "{:.1f}"),
    ("template_p50_ms", "other template-only turn median (ms)", "{:.1f}"),
    ("rasa_cpu_ms_per_reply", "Rasa server CPU per reply, sequential (ms)", "{:.1f}"),
    ("actions_cpu_ms_per_reply", "action server CPU per reply, sequential (ms)", "{:.1f}"),
    ("turn1_ms", "long conversation: turn 1 (ms)", "{:.1f}"),
    ("turn10_ms", "long conversation: turn 10 (ms)", "{:.1f}"),
    ("turn50_ms", "long conversation: turn 50 (ms)", "{:.1f}"),
    ("turn100_ms", "long conversation: turn 100 (ms)", "{:.1f}"),
    ("load20_msgs_per_s", "20 conversations: replies/s", "{:.1f}"),
    ("load20_p50_ms", "20 conversations: p50 (ms)", "{:.0f}"),
    ("load20_p95_ms", "20 conversations: p95 (ms)", "{:.0f}"),
    ("load20_errors", "20 conversations: errors", "{:.0f}"),
    ("load20_rasa_cpu_ms_per_reply", "20 conversations: Rasa server CPU per reply (ms)", "{:.1f}"),
    ("load20_actions_cpu_ms_per_reply", "20 conversations: action server CPU per reply (ms)", "{:.1f}"),
    ("load50_msgs_per_s", "50 conversations: replies/s", "{:.1f}"),
    ("load50_p95_ms", "50 conversations: p95 (ms)", "{:.0f}"),
    ("load50_errors", "50 conversations: errors", "{:.0f}"),
    ("rasa_peak_rss_mb", "Rasa server peak RSS (MB)", "{:.0f}"),
    ("rasa_peak_rss_long_mb", "Rasa server peak RSS after the 100k-character parses (MB)", "{:.0f}"),
    ("actions_peak_rss_mb", "action server peak RSS (MB)", "{:.0f}"),
]


def _cell(value: Any, fmt: str) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    return fmt.format(value)


def markdown(report: Dict[str, Any], labels: Dict[str, str]) -> str:
    results: Results = report["results"]
    m = report["machine"]
    columns = [name for name in ("ours", "default", "init") if name in results]
    header = f"| measure | {' | '.join(labels[c] for c in columns)} | ours / init | target (ours) |"
    lines = [
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB; Python {m['python']}, Rasa {m['rasa']}; "
        f"{m['date']}. {report['mode']}; load: {report['load_seconds']:.0f} s per level; "
        f"load average before the run {m['load_average']}. Sequential: {results['ours'].get('e2e_messages')} "
        f"scripted messages (ours), {results.get('init', {}).get('e2e_messages', '-')} (init).",
        "",
        header,
        "|---|" + "---:|" * (len(columns) + 1) + "---|",
    ]
    met = missed = 0
    for key, label, fmt in ROWS:
        values = [results[c].get(key) for c in columns]
        if all(v is None for v in values):
            continue
        ours, init = results["ours"].get(key), results.get("init", {}).get(key)
        numbers = all(isinstance(v, (int, float)) and v == v for v in (ours, init))
        ratio = f"{ours / init:.2f}" if numbers and init else "-"
        target = ""
        if key in TARGETS:
            text, check = TARGETS[key]
            outcome = check(results)
            if outcome is not None:
                met += outcome
                missed += not outcome
                target = f"{text} {'met' if outcome else 'MISSED'}"
        cells = [_cell(v, fmt) + (" [2]" if key == "train_s" and results[c].get("train_reused_from") else "")
                 for c, v in zip(columns, values)]
        lines.append(f"| {label} | {' | '.join(cells)} | {ratio} | {target} |")
    lines += ["", f"Targets: {met} met, {missed} missed.", "",
              "[1] Answered by templates in the Rasa default and `rasa init` bots; in ours by "
              "`action_small_talk`, a custom action (every reply of ours passes the safety preface)."]
    reused = {labels.get(c, c): results[c]["train_reused_from"] for c in columns if results[c].get("train_reused_from")}
    if reused:
        lines += ["", "[2] Not trained in this run: its training inputs are unchanged since the run of "
                  + "; ".join(f"{when} ({name})" for name, when in reused.items())
                  + ", whose model and measured training time are reused (`make bench BENCH_RETRAIN=1` trains again)."]
    return "\n".join(lines) + "\n"

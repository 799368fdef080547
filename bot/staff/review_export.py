"""The review page's labels as Rasa NLU training data: data/nlu/reviewed.yml.

Written with Rasa's own YAML writer (`version: "3.1"`, `nlu:`, one `- intent:` block each, the
words staff marked as `[words](condition)` or `[words](body_part)`; "not for us" is
`out_of_scope`), every time a label is saved and by `python -m bot.staff.review export`.
`rasa train --data data/nlu` picks the file up; the `make train` guard decides whether the model
it gives is kept.

An example is left out when its wording is already a training example in another data/nlu file
or in the held-out test set (tests/nlu/test_nlu.yml): the same words under two intents fail
`rasa data validate`, and a test example among the training data would make the held-out
accuracy (and so the guard) meaningless. REVIEW_EXPORT_PATH moves the file (tests do).
"""
from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Set

import yaml

from bot.knowledge.db import PROJECT_ROOT

logger = logging.getLogger(__name__)

DEFAULT_EXPORT = PROJECT_ROOT / "data" / "nlu" / "reviewed.yml"
HELD_OUT = PROJECT_ROOT / "tests" / "nlu" / "test_nlu.yml"
EMPTY = 'version: "3.1"\nnlu: []\n'
HEADER = ("# Messages the assistant missed, labelled by the spa on the staff page (/staff/review).\n"
          "# Written by bot/staff/review_export.py; regenerate: .venv/bin/python -m bot.staff.review export\n")
ENTITY_TYPES = ("condition", "body_part")
MAX_CHARS = 1000
# Square brackets start Rasa's entity markup ("[words](entity)"); control characters cannot be
# written in a YAML block.
BRACKETS = str.maketrans({"[": "(", "]": ")"})
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Two labels saved at once: each export reads the database and writes the file as one step.
_writing = threading.Lock()


def export_path() -> Path:
    configured = os.environ.get("REVIEW_EXPORT_PATH")
    return Path(configured) if configured else DEFAULT_EXPORT


def clean(text: str) -> str:
    """The message as one line a Rasa example can hold: no markup brackets, no line breaks."""
    return " ".join(CONTROL.sub(" ", text.translate(BRACKETS)).split())[:MAX_CHARS]


def key(text: str) -> str:
    return " ".join(text.casefold().split())


def _examples_in(path: Path) -> Set[str]:
    """The wordings of a Rasa NLU file's examples, markup removed (YAML read directly: Rasa's
    reader validates the schema of every file, which takes seconds)."""
    from rasa.shared.nlu.training_data.entities_parser import replace_entities

    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError) as error:  # someone else's broken file must not stop the export
        logger.warning("Review export: could not read %s (%s).", path.name, type(error).__name__)
        return set()
    blocks = document.get("nlu") if isinstance(document, dict) else None
    found: Set[str] = set()
    for block in blocks or []:
        listed = block.get("examples") if isinstance(block, dict) else None
        if isinstance(listed, str):
            lines = [line.strip()[2:] for line in listed.splitlines() if line.strip().startswith("- ")]
        elif isinstance(listed, list):
            lines = [str(e.get("text") or "") for e in listed if isinstance(e, dict)]
        else:
            continue
        found |= {key(replace_entities(line)) for line in lines}
    return found


def taken_wordings(export: Path, nlu_dir: Optional[Path] = None, held_out: Path = HELD_OUT) -> Set[str]:
    """Wordings the export must not repeat: the other training files' and the held-out test set's."""
    folder = nlu_dir or DEFAULT_EXPORT.parent
    files = [p for p in sorted(folder.glob("*.y*ml")) if p.resolve() != export.resolve()]
    if held_out.exists():
        files.append(held_out)
    taken: Set[str] = set()
    for path in files:
        taken |= _examples_in(path)
    return taken


def message(label: Any) -> Optional[Any]:
    """One training example; None when nothing usable is left of the text."""
    from rasa.shared.nlu.training_data.message import Message

    text = clean(label.text or "")
    if not text:
        return None
    spans: List[Dict[str, Any]] = []
    for entity in label.entities or []:
        words = clean(str(entity.get("words") or ""))
        found = re.search(re.escape(words), text, re.IGNORECASE) if words else None
        if entity.get("entity") not in ENTITY_TYPES or found is None:
            continue
        if any(found.start() < s["end"] and s["start"] < found.end() for s in spans):
            continue
        spans.append({"start": found.start(), "end": found.end(), "entity": entity["entity"], "value": found.group(0)})
    return Message.build(text=text, intent=label.intent, entities=sorted(spans, key=lambda s: s["start"]))


def examples(labels: Iterable[Any], taken: Set[str], intents: Optional[Set[str]] = None) -> List[Any]:
    """The training examples of the labels: the latest label of a wording wins, and wordings in
    `taken` (or intents the domain no longer has) are left out."""
    chosen: Dict[str, Any] = {}
    for label in labels:
        example = message(label)
        if example is None or (intents is not None and label.intent not in intents):
            continue
        wording = key(example.get("text"))
        if wording in taken:
            continue
        chosen.pop(wording, None)
        chosen[wording] = example
    return list(chosen.values())


def nlu_yaml(found: List[Any]) -> str:
    """Rasa NLU YAML for the examples, by Rasa's own writer; `nlu: []` when there are none."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.training_data import TrainingData

    if not found:
        return HEADER + EMPTY
    return HEADER + RasaYAMLWriter().dumps(TrainingData(found))


def domain_intents(domain: Path = PROJECT_ROOT / "domain.yml") -> Set[str]:
    """The intents domain.yml lists (an example of any other would fail validation)."""
    listed = (yaml.safe_load(domain.read_text(encoding="utf-8")) or {}).get("intents") or []
    return {next(iter(i)) if isinstance(i, dict) else str(i) for i in listed}


def write(path: Path, text: str) -> None:
    """Replace the file in one step, so a training run never reads half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".reviewed-", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def current_examples(url: Optional[str] = None, path: Optional[Path] = None) -> List[Any]:
    """The examples the export should hold now, from the labels in the database."""
    from bot.staff.review import all_labels

    return examples(all_labels(url), taken_wordings(path or export_path()), domain_intents())


def export(url: Optional[str] = None, path: Optional[Path] = None) -> int:
    """Write the labels to the export file; returns how many examples it holds."""
    with _writing:
        found = current_examples(url, path)
        write(path or export_path(), nlu_yaml(found))
    return len(found)

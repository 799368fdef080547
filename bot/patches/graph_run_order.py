"""Run the model's graph (NLU pipeline, policies) in a fixed order, without dask's scheduler.

Why: rasa 3.6's `DaskGraphRunner.run`, called once to parse each message and once per action
prediction, recomputes the part of the graph the targets need, builds a dask task graph and
hands it to `dask.get`, whose scheduler orders and dispatches the tasks again every time. For
our graph of a dozen nodes run one message at a time, that bookkeeping was about 7 % of the
Rasa server's CPU (py-spy, bench/README.md).

What it does: the nodes the targets need, in an order where each node comes after what it
needs, are worked out once per set of targets; each run calls those nodes in that order with
the same arguments dask would pass: each node gets the `(name, output)` pairs of the nodes it
needs (or an input, given as `(input name, value)`), and the result is the targets' outputs.
Node hooks run as before (they are inside each node's call). Inputs clashing with a node name,
and a node raising `RuntimeError`, raise the same `GraphRunError` as rasa.

Targets rasa 3.6.21 with dask 2022.10. Training is not affected (`rasa train` does not go
through `bot.server`). tests/unit/test_patches.py fails when the replaced methods change, and
compares the outputs with rasa's runner on the trained model.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner

UPSTREAM_SOURCES = {
    "rasa.engine.runner.dask.DaskGraphRunner.run":
        "45f0f52f574f3aa9546a552bf671183e171092c18b66e97f5771a7fa295de37e",
    "rasa.engine.runner.dask.DaskGraphRunner._build_dask_graph":
        "5bb99f974d512a36acb61caaf77aafc851b90c04ce4d02c262f230c75086cbee",
    "rasa.engine.runner.dask.DaskGraphRunner._add_inputs_to_graph":
        "d04a0ca2df6241c16997b89d63e2ca89cd1d43bd5f9920843a2a86cb4286ac73",
}

UPSTREAM = DaskGraphRunner.__dict__.get("_upstream_run", DaskGraphRunner.run)
_ATTRIBUTE = "_run_order"

Step = Tuple[Text, Tuple[Text, ...]]


def _order(runner: DaskGraphRunner, targets: Tuple[Text, ...]) -> List[Step]:
    """The nodes `targets` need, each after the nodes it needs, with the names it needs."""
    nodes = runner._graph_schema.nodes
    steps: List[Step] = []
    seen: set = set()

    def visit(name: Text) -> None:
        if name in seen or name not in nodes:  # an input placeholder, not a node
            return
        seen.add(name)
        needs = tuple(nodes[name].needs.values())
        for need in needs:
            visit(need)
        steps.append((name, needs))

    for target in targets:
        visit(target)
    return steps


def run(
    self: DaskGraphRunner,
    inputs: Optional[Dict[Text, Any]] = None,
    targets: Optional[List[Text]] = None,
) -> Dict[Text, Any]:
    """Drop-in for `DaskGraphRunner.run`: the same nodes called with the same arguments."""
    run_targets = tuple(targets if targets else self._graph_schema.target_names)
    orders = self.__dict__.setdefault(_ATTRIBUTE, {})
    steps = orders.get(run_targets)
    if steps is None:
        steps = orders[run_targets] = _order(self, run_targets)
    values: Dict[Text, Any] = {}
    for input_name, input_value in (inputs or {}).items():
        if isinstance(input_value, str) and any(input_value == name for name, _ in steps):
            raise GraphRunError(
                f"Input value '{input_value}' clashes with a node name. Make sure "
                f"that none of the input names passed to the `run` method are the "
                f"same as node names in the graph schema."
            )
        values[input_name] = (input_name, input_value)
    try:
        for name, needs in steps:
            values[name] = self._instantiated_nodes[name](*[values.get(need, need) for need in needs])
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e
    return dict(values.get(target, target) for target in run_targets)


def apply() -> None:
    """Install the patch (idempotent); the original stays reachable as `UPSTREAM`."""
    DaskGraphRunner._upstream_run = UPSTREAM  # type: ignore[attr-defined]
    DaskGraphRunner.run = run  # type: ignore[assignment]

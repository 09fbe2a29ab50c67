"""Undo and redo under concurrency and interleaving (contract core.md §8.3): a command is
undone once however many requests ask at the same time, and new commands leave the redo
stack alone."""

from __future__ import annotations

import threading
from typing import Any

import requests

from tests.factories import created, make_ontology
from tests.harness import Api


def test_concurrent_undos_of_one_command_undo_it_once(api: Api) -> None:
    ontology = make_ontology(api)
    made = api.post("/api/term.json", json={"name": "Once", "color": "#000",
                                            "ontology": ontology["id"]})  # fmt: skip
    command = made.json()["command"]
    answers: list[requests.Response] = []

    def ask() -> None:
        answers.append(api.as_keys(api.public_key, api.private_key).get(
            f"/api/command/{command}/undo.json"))  # fmt: skip

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [200] * 4
    messages = sorted(a.json()["collection"][0]["message"] for a in answers)
    term = made.json()["term"]["id"]
    assert messages == [*["Nothing to undo"] * 3, f"Term {term} (Once) deleted"]
    assert api.get(f"/api/term/{term}.json").status_code == 404


def test_redo_after_a_new_command_still_redoes(api: Api) -> None:
    ontology = make_ontology(api)

    def term(name: str) -> dict[str, Any]:
        body = {"name": name, "color": "#000", "ontology": ontology["id"]}
        return created(api.post("/api/term.json", json=body), "term")

    first = term("First")
    assert api.get("/api/command/undo.json").status_code == 200
    second = term("Second")
    redone = api.get("/api/command/redo.json").json()["collection"]
    assert [e["message"] for e in redone] == [f"Term {first['id']} (First) added"]
    assert api.get(f"/api/term/{first['id']}.json").status_code == 200
    undone = api.get("/api/command/undo.json").json()["collection"]
    assert [e["message"] for e in undone] == [f"Term {first['id']} (First) deleted"]
    assert api.get(f"/api/term/{second['id']}.json").status_code == 200

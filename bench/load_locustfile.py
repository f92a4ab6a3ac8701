"""Locust users for bench/load.py (run by it in a separate process; not a test).

Each user is a village cadre with a bearer token (the same API the phone client uses). Weights: search and
household file are the daily reads, a case transition is the write, a village list export is the heavy read,
GET /me is the floor (authentication + one row) the others are compared with."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

from locust import HttpUser, between, task

PLAN = json.loads(Path(os.environ["FANGPIN_LOAD_PLAN"]).read_text(encoding="utf-8"))
CASES = list(PLAN["cases"])  # open identification cases at 入户核查, one transition each
random.shuffle(CASES)


class Cadre(HttpUser):
    wait_time = between(0.0, 0.2)

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Bearer {PLAN['token']}"
        self.households = PLAN["households"]
        self.terms = PLAN["search_terms"]

    @task(1)
    def me(self) -> None:
        self.client.get("/api/v1/me", name="baseline GET /me")

    @task(6)
    def search(self) -> None:
        self.client.get(
            "/api/v1/households",
            params={"q": random.choice(self.terms), "limit": 20},
            name="household search",
        )

    @task(6)
    def household_file(self) -> None:
        self.client.get(f"/api/v1/households/{random.choice(self.households)}", name="household file")

    @task(2)
    def case_transition(self) -> None:
        if not CASES:
            return
        case_id, version = CASES.pop()
        self.client.post(
            f"/api/v1/cases/{case_id}/steps/verify",
            json={"version": version, "data": {"findings": "压测：入户核实", "risk_types": ["因病"]}},
            name="case transition",
        )

    @task(1)
    def export(self) -> None:
        with self.client.get(
            "/api/v1/households/export", name="list export (village, xlsx)", stream=True
        ) as r:
            for _ in r.iter_content(65536):
                pass

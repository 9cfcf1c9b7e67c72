"""Locust load test (run by `python manage.py bench load`): simulated analysts log in and open pages,
POSTing the callbacks each page fires on load. The bodies come from BENCH_BODIES (a JSON file the
bench writes: {page: [body, ...]}) and the accounts from BENCH_USERS ([[name, password], ...])."""
from __future__ import annotations

import itertools
import json
import os
import random

from locust import HttpUser, between, task

BODIES = json.load(open(os.environ["BENCH_BODIES"], encoding="utf-8"))
USERS = itertools.cycle(json.load(open(os.environ["BENCH_USERS"], encoding="utf-8")))


class Analyst(HttpUser):
    wait_time = between(0.5, 2.0)

    def on_start(self):
        name, pw = next(USERS)
        self.client.headers.update({"Origin": self.host.rstrip("/"), "Referer": self.host.rstrip("/") + "/"})
        r = self.client.post("/login", data={"username": name, "password": pw}, allow_redirects=False,
                             name="/login")
        if r.status_code not in (302, 303):
            raise RuntimeError(f"login failed: {r.status_code}")

    @task
    def open_page(self):
        page = random.choice(list(BODIES))
        for body in BODIES[page]:
            self.client.post("/_dash-update-component", json=body, name=f"callback {page}")

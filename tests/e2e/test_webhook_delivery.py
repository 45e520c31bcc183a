"""Webhook delivery by real `rapport serve` processes: an event committed before a kill -9
arrives, signed, after the restart; with two processes on one PostgreSQL database each
event is sent once."""

from __future__ import annotations

import signal
import subprocess
import time
import uuid
from pathlib import Path

import httpx
from standardwebhooks.webhooks import Webhook

from tests.e2e.server import VENV_BIN, base_environment, free_port, running
from tests.integration.webhook_receiver import receiving

PHQ9_RISK = {"1": 1, "2": 1, "3": 1, "4": 1, "5": 1, "6": 1, "7": 1, "8": 1, "9": 2}


def _environment(database_url: str, port: int) -> dict[str, str]:
    return base_environment() | {
        "RAPPORT_DATABASE_URL": database_url,
        "RAPPORT_PORT": str(port),
        "RAPPORT_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
        "RAPPORT_WEBHOOK_RETRY_SECONDS": "0.2",
        "RAPPORT_WEBHOOK_MAX_ATTEMPTS": "50",
        "RAPPORT_WEBHOOK_POLL_SECONDS": "0.1",
    }


def _token(env: dict[str, str], cwd: Path) -> dict[str, str]:
    made = subprocess.run(
        [f"{VENV_BIN}/rapport", "create-api-key", "--tenant", "Clinic"], env=env, cwd=cwd,
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return {"Authorization": f"Bearer {made.stdout.strip().splitlines()[-1]}"}


def _risk_alert(base: str, auth: dict[str, str]) -> str:
    """A new dyad whose first PHQ-9 endorses item 9; the id of the dyad."""
    tag = uuid.uuid4().hex[:8]
    patient = httpx.post(f"{base}/v1/patients", json={"external_id": f"P-{tag}"}, headers=auth)
    practitioner = httpx.post(
        f"{base}/v1/practitioners", json={"external_id": f"T-{tag}"}, headers=auth
    )
    dyad = httpx.post(
        f"{base}/v1/dyads",
        json={"patient_id": patient.json()["id"], "practitioner_id": practitioner.json()["id"]},
        headers=auth,
    ).json()["id"]
    stored = httpx.post(
        f"{base}/v1/dyads/{dyad}/administrations",
        json={"instrument": "phq-9", "session": 1, "responses": PHQ9_RISK},
        headers=auth,
    )
    assert stored.status_code == 201, stored.text
    return str(dyad)


def test_an_event_committed_before_a_kill_arrives_after_the_restart(tmp_path: Path) -> None:
    port, receiver_port = free_port(), free_port()
    env = _environment(f"sqlite:///{tmp_path / 'hooks.db'}", port)
    subprocess.run([f"{VENV_BIN}/rapport", "migrate"], env=env, cwd=tmp_path, check=True)
    auth = _token(env, tmp_path)
    command = [f"{VENV_BIN}/rapport", "serve", "--no-migrate"]
    url = f"http://127.0.0.1:{receiver_port}/events"  # nobody listens there yet
    with running(command, env, tmp_path, port) as (server, base):
        hook = httpx.post(
            f"{base}/v1/webhooks", json={"url": url, "events": ["alert.raised"]}, headers=auth
        ).json()
        dyad = _risk_alert(base, auth)  # committed: the alert and its event
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
    with receiving(receiver_port) as receiver, running(command, env, tmp_path, port) as (_, base):
        [arrived] = receiver.wait_for(1, timeout=30)
        body = Webhook(hook["secret"]).verify(arrived.body, arrived.headers)
        assert body["type"] == "alert.raised"
        assert body["data"]["dyad_id"] == dyad
        alerts = httpx.get(f"{base}/v1/alerts", params={"dyad_id": dyad}, headers=auth).json()
        assert body["data"]["alert_id"] == alerts["items"][0]["id"]
        time.sleep(0.5)
        assert len(receiver.received) == 1  # delivered once the receiver answered


def test_two_processes_on_postgresql_send_each_event_once(
    tmp_path: Path, postgres_database: str
) -> None:
    ports = free_port(), free_port()
    envs = [_environment(postgres_database, p) for p in ports]
    subprocess.run([f"{VENV_BIN}/rapport", "migrate"], env=envs[0], cwd=tmp_path, check=True)
    auth = _token(envs[0], tmp_path)
    command = [f"{VENV_BIN}/rapport", "serve", "--no-migrate"]
    one, two = tmp_path / "one", tmp_path / "two"  # each server writes its log in its own
    one.mkdir()
    two.mkdir()
    with (
        receiving() as receiver,
        running(command, envs[0], one, ports[0]) as (_, first),
        running(command, envs[1], two, ports[1]) as (_, second),
    ):
        hook = httpx.post(
            f"{first}/v1/webhooks",
            json={"url": receiver.url, "events": ["alert.raised"]},
            headers=auth,
        ).json()
        dyads = [_risk_alert((first, second)[i % 2], auth) for i in range(12)]
        arrived = receiver.wait_for(12, timeout=30)
        time.sleep(1.0)  # time for a duplicate to show up, were there one
        ids = [r.headers["webhook-id"] for r in receiver.received]
        assert len(ids) == len(set(ids)) == 12
        sent_for = {Webhook(hook["secret"]).verify(r.body, r.headers)["data"]["dyad_id"]
                    for r in arrived}  # fmt: skip
        assert sent_for == set(dyads)

"""The same API deployed with Ray Serve (creator.service.ray_serve) on a local Ray started
by the test: one deployment per stage, replicas from Settings, the round trip over
HTTP, concurrent answers equal to serial ones, a video job to the end and a cancelled
one."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from creator.config import SERVICE_STAGES
from tests.distributed.service_fixtures import (follow_job, free_port, make_library, make_trip, round_trip,
                                               service_settings)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    import ray
    from ray import serve

    from creator.service.ray_serve import deploy

    tmp = tmp_path_factory.mktemp("雷服务")
    photos = make_trip(tmp / "西湖")
    settings = service_settings(tmp, make_library(tmp / "音乐"), replicas={"caption": 2},
                                replica_cpus={s: 0.25 for s in SERVICE_STAGES})
    port = free_port()
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        deploy(settings, port=port)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            yield {"tmp": tmp, "photos": photos, "client": client, "settings": settings, "serve": serve}
    finally:
        serve.shutdown()
        ray.shutdown()


def test_one_deployment_per_stage_with_replicas_from_settings(served):
    deployments = served["serve"].status().applications["creator"].deployments
    assert set(SERVICE_STAGES) <= set(deployments)
    running = {name: d.replica_states.get("RUNNING", 0) for name, d in deployments.items()}
    assert running["caption"] == 2 and all(running[s] == 1 for s in SERVICE_STAGES if s != "caption")


def test_round_trip_concurrency_and_video_job_on_ray_serve(served):
    client, photos, tmp = served["client"], served["photos"], served["tmp"]
    first = round_trip(client, photos, tmp)
    ctx = first["context"]

    def caption(seed):
        r = client.post("/caption", json={"context": ctx, "language": "en", "seed": seed})
        assert r.status_code == 200, r.text
        return r.json()

    serial = [caption(k) for k in range(4)]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(caption, range(4))) == serial
    r = client.post("/understand", json={"media": ["/etc/passwd"]})  # an SDK error crosses the replicas as a 400
    assert r.status_code == 400 and "not a media id" in r.json()["error"]
    r = client.post("/caption", json={"context": ctx, "style": "fancy"})
    assert r.status_code == 400 and r.json()["kind"] == "InputError" and "Traceback" not in r.text

    draft = {"language": "zh", "context": ctx, "order": [i["id"] for i in ctx["items"]],
             "caption": first["captions"][0], "track": first["tracks"][0], "cover": first["covers"][0]}
    job = client.post("/videos", json={"draft": draft}).json()
    job, seen = follow_job(client, job, poll=0.2)
    assert job["state"] == "done", job
    # progress never goes back (a short render may end between two polls on a busy machine:
    # that it is read from the video replica mid-render is the next job's check)
    assert seen == sorted(seen)
    assert client.get("/" + job["video"]["path"]).content[4:8] == b"ftyp"

    job = client.post("/videos", json={"draft": draft, "length": 60}).json()
    deadline = time.monotonic() + 60
    while job["progress"] <= 0.02 and job["state"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.1)
        job = client.get(f"/videos/{job['id']}").json()
    # a 60 s render is still running when its progress, read from the video replica, moves
    assert job["state"] == "running" and 0.02 < job["progress"] < 1, job
    client.delete(f"/videos/{job['id']}")
    deadline = time.monotonic() + 30
    while job["state"] in ("running", "cancelling") and time.monotonic() < deadline:
        time.sleep(0.2)
        job = client.get(f"/videos/{job['id']}").json()
    assert job["state"] == "cancelled" and job["video"] is None
    assert not list((served["settings"].service_root / "videos" / job["id"]).glob("*.mp4"))

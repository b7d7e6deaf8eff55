"""The Assistant as a service (creator.service): a real uvicorn server on 127.0.0.1 and
a real HTTP client (httpx), over a small real trip and music library."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from creator.errors import BackendUnavailable
from creator.service import require_extra
from creator.service.app import create_app
from tests.distributed.service_fixtures import (
    LocalServer,
    assert_no_server_path,
    follow_job,
    free_port,
    make_library,
    make_trip,
    round_trip,
    service_settings,
    upload,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("服务测试")
    photos = make_trip(tmp / "西湖")
    library = make_library(tmp / "音乐")
    settings = service_settings(tmp, library, max_upload_mb=1, max_request_mb=3, max_files=5, max_json_mb=1)
    with LocalServer(create_app(settings)) as server, \
            httpx.Client(base_url=server.url, timeout=120) as client:
        yield {"tmp": tmp, "photos": photos, "settings": settings, "client": client, "server": server,
               "first": round_trip(client, photos, tmp)}


def uploads_left(settings) -> list[Path]:
    return [p for p in (settings.service_root / "uploads").rglob("*") if p.is_file()]


def test_round_trip_and_concurrent_requests_answer_as_serial_ones(env):
    client, photos, tmp = env["client"], env["photos"], env["tmp"]
    first = env["first"]
    assert first["context"]["places"][0]["name_zh"] == "杭州"
    r = client.post("/carousel", json={"context": first["context"], "n": 3, "labels": True})
    assert r.status_code == 200, r.text
    entries = r.json()
    ids = {i["id"] for i in first["context"]["items"]}
    assert 1 <= len(entries) <= 3 and {e["item_id"] for e in entries} <= ids and all(len(e["box"]) == 4 for e in entries)

    def again(_k):
        return round_trip(client, photos, tmp)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(again, range(4)))

    def same(x):  # upload ids (and so media ids and cover URLs) are new each time; the rest is equal
        ids = {f["id"]: f["name"] for f in x["upload"]["files"]}
        ctx = x["context"]
        items = sorted((dict(i, path=ids[i["path"]]) for i in ctx["items"]), key=lambda i: i["id"])
        return ({**ctx, "items": items}, x["captions"], x["tracks"],
                [dict(c, path=None) for c in x["covers"]], x["cover_bytes"])

    assert all(same(r) == same(first) for r in results)


def test_uploads_over_the_limits_are_refused_and_leave_nothing(env):
    client, settings, photo = env["client"], env["settings"], env["photos"][0]
    before = uploads_left(settings)
    big = os.urandom(int(1.5 * 1024 * 1024))  # over the 1 MB a file
    r = client.post("/uploads", files=[("files", ("小.jpg", photo.read_bytes())), ("files", ("大照片.jpg", big))])
    assert r.status_code == 413
    assert r.json() == {"error": "upload: 大照片.jpg is over the 1 MB limit of one file", "kind": "too_large"}
    # over the 3 MB of one request, said from Content-Length before anything is read
    four = [("files", (f"{k}.jpg", os.urandom(900 * 1024))) for k in range(4)]
    r = client.post("/uploads", files=four)
    assert r.status_code == 413 and "3 MB limit of one upload request" in r.json()["error"]

    # and without a Content-Length (chunked): counted as it streams
    boundary = "----creator-test-boundary"

    def body():
        for k in range(4):
            yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{k}.jpg\"\r\n"
                   "Content-Type: image/jpeg\r\n\r\n").encode()
            for _ in range(9):
                yield os.urandom(100 * 1024)
            yield b"\r\n"
        yield f"--{boundary}--\r\n".encode()

    r = client.post("/uploads", content=body(), headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    assert r.status_code == 413 and "limit of one upload request" in r.json()["error"]
    cut = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"半.jpg\"\r\n\r\n"
           ).encode() + photo.read_bytes()[:5000]  # the body stops inside the file
    r = client.post("/uploads", content=cut, headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    assert r.status_code == 400 and "ended inside a file" in r.json()["error"]
    r = client.post("/uploads", files=[("files", (f"{k}.jpg", b"x")) for k in range(6)])
    assert r.status_code == 413 and "more than 5 files" in r.json()["error"]
    assert uploads_left(settings) == before  # no partial file, no folder of a refused request


def test_requests_naming_server_paths_are_refused(env):
    client, first = env["client"], env["first"]
    secret = "root:x:0:0"
    media_id = first["upload"]["files"][0]["id"]
    upload_id = first["upload"]["upload"]
    for bad in ["/etc/passwd", "../../../../etc/passwd", f"{media_id}/../../../../etc/passwd",
                f"{upload_id}-0/../1", "uploads/" + media_id, media_id + "\x00"]:
        r = client.post("/understand", json={"media": [bad]})
        assert r.status_code == 400 and "not a media id" in r.json()["error"], (bad, r.text)
    ctx = first["context"]
    for bad in ["/etc/passwd", "../etc/passwd", str(env["photos"][0])]:
        crafted = {**ctx, "items": [dict(ctx["items"][0], path=bad)] + ctx["items"][1:]}
        for endpoint, extra in [("/caption", {}), ("/cover", {}), ("/soundtrack", {}), ("/carousel", {})]:
            r = client.post(endpoint, json={"context": crafted, **extra})
            assert r.status_code == 400 and "context.items[0].path" in r.json()["error"], (endpoint, r.text)
            assert secret not in r.text
    # a real media id, but claiming another photo's content: the file is checked against the item id
    swapped = {**ctx, "items": [dict(ctx["items"][0], path=ctx["items"][1]["path"])] + ctx["items"][1:]}
    r = client.post("/cover", json={"context": swapped})
    assert r.status_code == 400 and "no longer the one" in r.json()["error"]
    cover_id = first["covers"][0]["path"].split("/")[1]
    for url in [f"/covers/{cover_id}/..%2F..%2F..%2F..%2Fetc%2Fpasswd", f"/covers/{cover_id}/.%2E%2Fuploads",
                "/covers/..%2F..%2Fetc/passwd", "/covers/0123456789abcdef/cover.png", f"/covers/{cover_id}/%2Fetc%2Fpasswd"]:
        r = client.get(url)
        assert r.status_code in (400, 404) and secret not in r.text, (url, r.status_code)
    # a file name that climbs is kept as its last part, inside the upload's folder
    up = client.post("/uploads", files=[("files", ("../../逃出/坏.jpg", b"not a photo"))]).json()
    assert up["files"][0]["name"] == "坏.jpg"
    stored = [p for p in (env["settings"].service_root / "uploads" / up["upload"]).rglob("*") if p.is_file()]
    assert [p.name for p in stored] == ["坏.jpg"]
    r = client.post("/understand", json={"media": [up["files"][0]["id"]]})
    assert r.status_code == 200 and r.json()["items"][0]["error"]  # an unreadable file is an item's error
    assert_no_server_path(r.json(), env["tmp"])
    draft = {"context": ctx, "cover": dict(first["covers"][0], path="/etc/passwd")}
    r = client.post("/videos", json={"draft": draft})
    assert r.status_code == 400 and "not a cover URL" in r.json()["error"]
    for r in [client.get("/videos/0123456789abcdef"), client.delete("/videos/nope")]:
        assert r.status_code == 404


def test_errors_are_4xx_with_their_message_and_500_says_nothing_more(env, tmp_path):
    client, ctx = env["client"], env["first"]["context"]
    r = client.post("/caption", json={"context": ctx, "style": "fancy"})
    assert r.status_code == 400 and r.json()["kind"] == "InputError" and "fancy" in r.json()["error"]
    r = client.post("/soundtrack", json={})
    assert r.status_code == 400 and "context, a query or both" in r.json()["error"]
    r = client.post("/uploads", content=b"hello", headers={"content-type": "text/plain"})
    assert r.status_code == 400 and "multipart/form-data" in r.json()["error"]

    class Broken:  # a stage that fails with something that is not the SDK's error
        def understand(self, media, **_):
            raise RuntimeError(f"boom in {media[0]} at /srv/secret/models")

        def caption(self, context, **_):
            from creator.errors import MediaError

            raise MediaError(f"{context.items[0].path}: cannot be read")

    settings = env["settings"].model_copy(update={"service": env["settings"].service.model_copy(
        update={"work_dir": tmp_path / "另一个"})})
    with LocalServer(create_app(settings, assistant=Broken())) as server, \
            httpx.Client(base_url=server.url, timeout=60) as other:
        up = upload(other, env["photos"][:1])
        r = other.post("/understand", json={"media": [up["files"][0]["id"]]})
        assert r.status_code == 500 and r.json() == {"error": "internal error", "kind": "internal"}
        one = dict(ctx, items=[dict(ctx["items"][0], path=up["files"][0]["id"])])
        r = other.post("/caption", json={"context": one})
        assert r.status_code == 422 and r.json()["kind"] == "MediaError"
        assert r.json()["error"] == f"{up['files'][0]['id']}: cannot be read"  # its media id, never the folders
        assert_no_server_path(r.text, tmp_path)


def test_json_bodies_are_numbers_in_size_and_errors_in_the_sdks_shape(env):
    """NaN / Infinity (Python's json reads them) are a 400, not a 500 deep in a stage; an
    unknown field is a 422 naming it without echoing the body; a body over max_json_mb a 413."""
    client, ctx = env["client"], env["first"]["context"]
    for body in ('{"context": %s, "length": NaN}', '{"context": %s, "length": -Infinity}'):
        r = client.post("/soundtrack", content=body % json.dumps(ctx), headers={"content-type": "application/json"})
        assert r.status_code == 400 and r.json()["kind"] == "InputError", r.text
        assert "is not a number" in r.json()["error"]
    bad = dict(ctx, items=[dict(ctx["items"][0], quality=dict(ctx["items"][0].get("quality") or {}, score=float("nan")))])
    r = client.post("/carousel", content=json.dumps({"context": bad}), headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    r = client.post("/caption", content="[" * 100000 + "]" * 100000, headers={"content-type": "application/json"})
    assert r.status_code == 400 and "nested too deeply" in r.json()["error"], r.text  # not a 500
    r = client.post("/caption", json={"context": ctx, "hint": "x" * 5000})
    assert r.status_code == 422 and r.json()["kind"] == "ValidationError" and "hint" in r.json()["error"]
    assert "x" * 100 not in r.text and len(r.text) < 2000
    r = client.post("/caption", json={"context": ctx, "hints": ["x" * (1 << 20)]})
    assert r.status_code == 413 and r.json()["kind"] == "too_large"


def test_a_loopback_server_answers_to_its_own_names_only(env):
    """DNS rebinding: a page on attacker.example resolved to 127.0.0.1 sends its own Host."""
    client = env["client"]
    assert client.get("/health").status_code == 200
    assert client.get("/health", headers={"host": "localhost:8000"}).status_code == 200
    r = client.get("/health", headers={"host": "attacker.example"})
    assert r.status_code == 400 and r.json()["kind"] == "InputError" and "attacker.example" in r.json()["error"]
    r = client.post("/caption", json={"context": env["first"]["context"]}, headers={"host": "127.0.0.1.evil:80"})
    assert r.status_code == 400
    # a form on another site posting to the API (no preflight for multipart): refused;
    # a page of this computer and a program without Origin are answered
    for origin in ("https://attacker.example", "null", "http://127.0.0.1.evil"):
        r = client.post("/uploads", files={"files": ("a.jpg", b"\xff\xd8\xff", "image/jpeg")},
                        headers={"origin": origin})
        assert r.status_code == 403 and r.json()["kind"] == "InputError", (origin, r.text)
    assert client.get("/health", headers={"origin": "http://localhost:8501"}).status_code == 200
    assert client.get("/health", headers={"origin": "http://[::1]:8000"}).status_code == 200

def test_video_job_progress_done_and_cancel(env):
    client, first = env["client"], env["first"]
    ctx = first["context"]
    draft = {"language": "zh", "context": ctx, "order": [i["id"] for i in ctx["items"]],
             "caption": first["captions"][0], "track": first["tracks"][0], "cover": first["covers"][0]}
    r = client.post("/videos", json={"draft": draft})
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["state"] in ("queued", "running")
    job, seen = follow_job(client, job, poll=0.1)
    assert job["state"] == "done", job
    assert job["progress"] == 1.0 and seen == sorted(seen) and any(0 < p < 1 for p in seen)
    video = job["video"]
    assert video["path"] == f"videos/{job['id']}/note.mp4" and (video["width"], video["height"]) == (180, 320)
    assert_no_server_path(job, env["tmp"])
    mp4 = client.get("/" + video["path"])
    assert mp4.status_code == 200 and mp4.content[4:8] == b"ftyp"

    # cancel: a longer render stopped while it runs, leaving no video
    r = client.post("/videos", json={"draft": draft, "length": 60})
    job = r.json()
    waiting = client.post("/videos", json={"draft": draft}).json()  # one render at a time: this one waits
    assert waiting["state"] == "queued"
    assert client.delete(f"/videos/{waiting['id']}").json()["state"] == "cancelled"
    deadline = time.monotonic() + 30
    while job["progress"] <= 0.02 and job["state"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.05)
        job = client.get(f"/videos/{job['id']}").json()
    assert job["state"] == "running", job
    r = client.delete(f"/videos/{job['id']}")
    assert r.status_code == 200 and r.json()["state"] in ("cancelling", "cancelled")
    deadline = time.monotonic() + 30
    while job["state"] in ("running", "cancelling") and time.monotonic() < deadline:
        time.sleep(0.1)
        job = client.get(f"/videos/{job['id']}").json()
    assert job["state"] == "cancelled" and job["video"] is None and job["progress"] < 1
    assert client.get(f"/videos/{waiting['id']}").json()["state"] == "cancelled"  # and never started
    folder = env["settings"].service_root / "videos" / job["id"]
    assert not list(folder.glob("*.mp4"))
    assert client.get(f"/videos/{job['id']}/note.mp4").status_code == 400


def test_openapi_lists_the_endpoints(env):
    client = env["client"]
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/uploads", "/understand", "/caption", "/soundtrack", "/cover", "/covers/{cover_id}/{name}",
            "/carousel", "/videos", "/videos/{job_id}"} <= set(paths)
    # the OpenAPI page works offline: its script and style come from this server, not a CDN
    page = client.get("/docs")
    assert page.status_code == 200 and "cdn." not in page.text
    assets = re.findall(r"""(?:src|href)=['"]([^'"]+\.(?:js|css))['"]""", page.text)
    assert len(assets) >= 2, page.text
    for url in assets:
        assert url.startswith("/"), url
        asset = client.get(url)
        assert asset.status_code == 200 and len(asset.content) > 10_000, url


def test_serve_command_binds_this_computer_by_default(tmp_path):
    from creator.service.cli import bind_warning

    run = [sys.executable, "-m", "creator.cli", "serve"]
    help_text = subprocess.run(run + ["--help"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert help_text.returncode == 0 and "--ray [ADDRESS]" in help_text.stdout and "127.0.0.1" in help_text.stdout
    from creator.cli import build_parser

    parse = build_parser().parse_args
    assert parse(["serve"]).ray is None and parse(["serve", "--ray"]).ray == "local"
    assert parse(["serve", "--ray", "ray://head:10001"]).ray == "ray://head:10001"
    assert bind_warning("127.0.0.1") is None and bind_warning("::1") is None and bind_warning("localhost") is None
    assert "other computers can reach" in bind_warning("0.0.0.0")

    port = free_port()
    env = dict(os.environ, CREATOR_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(run + ["--port", str(port)], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, "creator serve did not start"
                time.sleep(0.2)
        assert r.json()["status"] == "ok"
        # bound to the loopback address only: this machine's other addresses don't answer
        try:
            others = {a[4][0] for a in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
        except socket.gaierror:  # a host name that does not resolve: no other address to try
            others = set()
        for addr in [a for a in others if not a.startswith("127.")]:
            with pytest.raises(OSError), socket.create_connection((addr, port), timeout=2):
                pass
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert "http://127.0.0.1:" in err and "warning" not in err
    assert (tmp_path / "cache" / "service" / "uploads").is_dir()  # the work dir under the cache, never ~


def test_a_missing_extra_names_it_and_import_creator_stays_light():
    with pytest.raises(BackendUnavailable, match=r"pip install '\.\[distributed\]'"):
        require_extra("no_such_module_for_creator", what="the HTTP API")
    # creator serve where FastAPI is not installed: one line naming the extra, exit status 1
    code = "import sys; sys.modules['fastapi'] = None\nfrom creator.cli import main\nsys.exit(main(['serve']))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 1 and out.stderr.strip().count("\n") == 0, out.stderr
    assert "creator serve: the HTTP API needs fastapi" in out.stderr and "pip install '.[distributed]'" in out.stderr
    code = ("import sys, creator, creator.config, creator.service, creator.service.cli\n"
            "from creator.cli import build_parser; build_parser()\n"
            "print([m for m in ('fastapi', 'uvicorn', 'ray', 'starlette') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr

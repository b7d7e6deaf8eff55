"""What an audit of the HTTP API (creator.service) found, each case through the real app
on a real uvicorn server and a real HTTP client: capped free texts, long Chinese file
names, every loopback address guarded, bounded bodies of any type, no symlink followed
out of the service folder, exact ids, only the video served as a video, one error shape,
and messages that name media by their ids."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import httpx
import pytest

from creator.assistant import Assistant
from creator.errors import InputError
from creator.service import app as service_app
from creator.service.app import Store, _safe_name, _UploadSink, create_app
from creator.types import VideoResult
from tests.distributed.service_fixtures import (
    LocalServer,
    assert_no_server_path,
    follow_job,
    make_library,
    make_trip,
    service_settings,
    upload,
)

#: a text no one types: the real stages would spend minutes in the text encoder on it
ABSURD = 10_000


class Stages:
    """The real Assistant, except that a text over ABSURD characters never reaches it
    (it is recorded and answered with nothing, so a test sees that it got through), and
    a video is a quick fake: ``note.mp4`` and a ``secret.txt`` beside it, and a warning
    naming the first photo by its server path."""

    def __init__(self, assistant: Assistant):
        self.assistant, self.absurd = assistant, []

    def __getattr__(self, name):
        return getattr(self.assistant, name)

    def _absurd(self, stage: str, *texts) -> bool:
        if any(len(t) > ABSURD for t in texts if t):
            self.absurd.append(stage)
            return True
        return False

    def understand(self, media, *, hints=None, **kw):
        if self._absurd("understand", *(hints or [])):
            raise InputError("a text no one types got through")
        return self.assistant.understand(media, hints=hints, **kw)

    def caption(self, context, **kw):
        if self._absurd("caption", *context.hints, *(kw.get("hints") or []), *kw.get("keywords", [])):
            return []
        return self.assistant.caption(context, **kw)

    def soundtrack(self, context=None, *, query=None, **kw):
        if self._absurd("soundtrack", query, *(context.hints if context else [])):
            return []
        return self.assistant.soundtrack(context, query=query, **kw)

    def video(self, draft, *, out, draft_dir, **_kw):
        Path(out).write_bytes(b"\0\0\0\x18ftypmp42 fake video")
        (Path(draft_dir) / "secret.txt").write_text("not for the client", encoding="utf-8")
        first = draft.context.items[0].path
        return VideoResult(path=str(out), duration=1.0, width=180, height=320, fps=10,
                           warnings=[f"{first}: shown for 1.0 s"])


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("审计")
    photos = make_trip(tmp / "西湖")
    settings = service_settings(tmp, make_library(tmp / "音乐"), max_json_mb=1)
    stages = Stages(Assistant(settings))
    with LocalServer(create_app(settings, assistant=stages)) as server, \
            httpx.Client(base_url=server.url, timeout=120) as client:
        up = upload(client, photos)
        r = client.post("/understand", json={"media": [f["id"] for f in up["files"]]})
        assert r.status_code == 200, r.text
        yield {"tmp": tmp, "photos": photos, "settings": settings, "client": client, "server": server,
               "stages": stages, "upload": up, "context": r.json()}


def _error(r: httpx.Response, status: int) -> dict:
    """The app's error body of a response with ``status``: one short line."""
    assert r.status_code == status, (r.status_code, r.text[:300])
    body = r.json()
    assert set(body) == {"error", "kind"} and "\n" not in body["error"] and len(body["error"]) < 300, body
    return body


# 1. free texts that reach the text encoders

def test_a_query_or_hint_too_long_for_the_text_encoder_is_refused(env):
    client, ctx, stages = env["client"], env["context"], env["stages"]
    long = "海边的傍晚" * 40_000  # 200 000 characters
    for path, body in [("/soundtrack", {"query": long}),
                       ("/soundtrack", {"context": ctx, "query": "x" * 501}),
                       ("/understand", {"media": [env["upload"]["files"][0]["id"]], "hints": [long]}),
                       ("/caption", {"context": ctx, "hints": [long]}),
                       ("/caption", {"context": ctx, "keywords": [long]}),
                       ("/caption", {"context": ctx, "hints": ["西湖"] * 21})]:
        r = client.post(path, json=body)
        error = _error(r, 422)["error"]
        assert re.search(r"at most (500|100) characters|at most 20 items", error) and "海边" not in error, (path, error)
    # a client's own context carrying hints no one types: refused before any stage reads them
    for path in ("/soundtrack", "/caption"):
        error = _error(client.post(path, json={"context": dict(ctx, hints=[long])}), 400)["error"]
        assert "context.hints[0]" in error and "500 characters" in error, error
    assert stages.absurd == []
    r = client.post("/soundtrack", json={"query": "热闹的夜市，" * 80, "top": 1})  # 480 characters: answered
    assert r.status_code == 200 and len(r.json()) == 1, r.text


# 2. file names over 255 bytes in UTF-8

def test_a_long_chinese_file_name_is_cut_by_bytes_and_the_batch_kept(env):
    client, photos, settings = env["client"], env["photos"], env["settings"]
    long = "西湖边的一个很长很长的名字" * 7 + ".jpg"  # 91 characters, 277 bytes
    r = client.post("/uploads", files=[("files", (long, photos[0].read_bytes())),
                                       ("files", ("花.jpg", photos[1].read_bytes()))])
    assert r.status_code == 201, r.text
    first, second = r.json()["files"]
    assert first["name"].endswith(".jpg") and long.startswith(first["name"][:-4])
    assert len(first["name"].encode("utf-8")) <= service_app.MAX_NAME and second["name"] == "花.jpg"
    stored = list((settings.service_root / "uploads" / r.json()["upload"] / "0").iterdir())
    assert [p.name for p in stored] == [first["name"]]
    r = client.post("/understand", json={"media": [first["id"], second["id"]]})
    assert r.status_code == 200 and all(i["error"] is None for i in r.json()["items"]), r.text


def test_safe_name_counts_utf8_bytes_and_keeps_the_suffix():
    for raw in ["长" * 84 + ".jpg", "😀" * 100 + ".heic", "a" * 300 + ".mp4"]:
        name = _safe_name(raw)
        stem, suffix = name.rsplit(".", 1)
        assert len(name.encode("utf-8")) <= service_app.MAX_NAME and raw.startswith(stem) and raw.endswith("." + suffix)
        assert len(name.encode("utf-8")) > service_app.MAX_NAME - 4  # cut on the last whole character
    for raw in ["长" * 300, "x." + "长" * 100]:  # no suffix to keep (none, or not one): cut as a whole
        name = _safe_name(raw)
        assert raw.startswith(name) and service_app.MAX_NAME - 3 < len(name.encode("utf-8")) <= service_app.MAX_NAME
    assert _safe_name("宫殿.jpg") == "宫殿.jpg" and _safe_name("../../逃出/坏.jpg") == "坏.jpg"


def test_a_part_that_cannot_be_stored_is_a_clear_400_not_a_500(env, monkeypatch):
    client, photos, settings = env["client"], env["photos"], env["settings"]
    before = sorted(p.name for p in (settings.service_root / "uploads").iterdir())
    monkeypatch.setattr(service_app, "_safe_name", lambda raw: "长" * 100 + ".jpg")  # 304 bytes: ENAMETOOLONG
    r = client.post("/uploads", files=[("files", ("宫殿.jpg", photos[0].read_bytes()))])
    error = _error(r, 400)["error"]
    assert error.startswith("upload: file 0") and "cannot be stored" in error and "长" * 61 not in error, error
    assert_no_server_path(error, env["tmp"])
    assert sorted(p.name for p in (settings.service_root / "uploads").iterdir()) == before  # nothing kept


def test_upload_sink_turns_an_os_error_into_an_input_error(tmp_path):
    from python_multipart.multipart import MultipartParser

    folder = tmp_path / "上传"
    folder.mkdir()
    (folder / "0").write_text("in the way", encoding="utf-8")  # the part's folder cannot be made
    sink = _UploadSink(folder, max_file=1 << 20, max_files=5, limit_mb=1)
    body = (b'--b\r\nContent-Disposition: form-data; name="files"; filename="\xe5\xae\xab.jpg"\r\n\r\n'
            b"data\r\n--b--\r\n")
    with pytest.raises(InputError, match=r"upload: file 0 \(宫\.jpg\) cannot be stored"):
        MultipartParser(b"b", sink.callbacks()).write(body)


# 3. every loopback address is guarded, and the command line says the same

@pytest.mark.parametrize("host", ["127.0.0.2", "[::1]", "127.0.0.1"])
def test_every_loopback_address_gets_the_host_and_origin_guard(env, tmp_path, host):
    settings = env["settings"].model_copy(update={"service": env["settings"].service.model_copy(
        update={"work_dir": tmp_path / "服务", "host": host})})
    with LocalServer(create_app(settings)) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        _error(client.get("/health", headers={"host": "attacker.example"}), 400)
        _error(client.get("/health", headers={"origin": "https://attacker.example"}), 403)
        bare = host.strip("[]")
        shown = f"[{bare}]" if ":" in bare else bare
        for name in (f"{shown}:8000", shown, "localhost:8000", "127.0.0.1"):
            assert client.get("/health", headers={"host": name}).status_code == 200, name
        assert client.get("/health", headers={"origin": f"http://{shown}:8000"}).status_code == 200


def test_a_server_bound_elsewhere_has_no_loopback_guard(env, tmp_path):
    settings = env["settings"].model_copy(update={"service": env["settings"].service.model_copy(
        update={"work_dir": tmp_path / "服务", "host": "0.0.0.0"})})
    with LocalServer(create_app(settings)) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        assert client.get("/health", headers={"host": "creator.example"}).status_code == 200


def test_serve_command_on_any_loopback_address(monkeypatch, capsys):
    import uvicorn

    from creator.cli import build_parser
    from creator.service.cli import bind_warning, run_serve

    for host in ("127.0.0.1", "127.0.0.2", "127.8.9.10", "::1", "[::1]", "localhost", "LocalHost"):
        assert bind_warning(host) is None and service_app.is_loopback(host), host
    for host in ("0.0.0.0", "::", "192.168.1.2", "localhost.example", "127.0.0.1.evil", "", "[::1"):
        assert "other computers can reach" in bind_warning(host) and not service_app.is_loopback(host), host
    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port, **_: seen.update(app=app, host=host, port=port))
    assert run_serve(build_parser().parse_args(["serve", "--host", "[::1]", "--port", "8123"])) == 0
    err = capsys.readouterr().err
    assert seen["host"] == "::1" and "warning" not in err and "http://[::1]:8123" in err, err
    assert run_serve(build_parser().parse_args(["serve", "--host", "127.0.0.2", "--port", "0"])) == 0
    assert "warning" not in capsys.readouterr().err
    with LocalServer(seen["app"]) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        _error(client.get("/health", headers={"host": "attacker.example"}), 400)
        assert client.get("/health", headers={"host": "127.0.0.2:8000"}).status_code == 200


# 4. every body but an upload is bounded, and a JSON route takes JSON

def test_bodies_of_any_type_are_bounded_and_json_routes_take_json(env):
    client = env["client"]

    def chunks():  # 3 MB of text/plain, chunked (no Content-Length), over the 1 MB limit
        for _ in range(30):
            yield b"x" * (100 * 1024)

    for ctype in ("text/plain", "application/octet-stream", None):
        headers = {"content-type": ctype} if ctype else {}
        body = _error(client.post("/understand", content=chunks(), headers=headers), 413)
        assert body["kind"] == "too_large" and "1 MB" in body["error"], (ctype, body)
    r = client.post("/understand", content=b"x" * (2 << 20), headers={"content-type": "text/plain"})
    assert _error(r, 413)["kind"] == "too_large"  # said from Content-Length
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=b"):
        body = _error(client.post("/caption", content=b'{"context": {}}', headers={"content-type": ctype}), 415)
        assert "application/json" in body["error"], body
    r = client.post("/understand", content=json.dumps({"media": [env["upload"]["files"][0]["id"]]}),
                    headers={"content-type": "application/json; charset=utf-8"})
    assert r.status_code == 200, r.text


# 5. no symlink out of the service folder

def test_a_symlinked_cover_folder_or_file_is_not_served(env, tmp_path):
    client, settings = env["client"], env["settings"]
    outside = tmp_path / "别处"
    outside.mkdir()
    (outside / "cover.png").write_bytes(b"\x89PNG\r\n\x1a\n secret of another folder")
    covers = settings.service_root / "covers"
    linked = Store.new_id()
    (covers / linked).symlink_to(outside, target_is_directory=True)
    real = Store.new_id()
    (covers / real).mkdir()
    (covers / real / "cover.png").symlink_to(outside / "cover.png")
    try:
        for url in (f"/covers/{linked}/cover.png", f"/covers/{real}/cover.png"):
            r = client.get(url)
            assert r.status_code in (400, 404) and b"secret" not in r.content, (url, r.text)
            _error(r, r.status_code)
        store = Store(settings.service_root)
        with pytest.raises(InputError):
            store.cover_file(linked, "cover.png")
    finally:
        (covers / linked).unlink()
        shutil.rmtree(covers / real)


# 6. ids are matched whole

def test_ids_with_a_trailing_newline_are_refused(env):
    client, up = env["client"], env["upload"]
    for bad in (up["files"][0]["id"] + "\n", up["files"][0]["id"] + "\r\n"):
        error = _error(client.post("/understand", json={"media": [bad]}), 400)["error"]
        assert "not a media id" in error, error
    store = Store(env["settings"].service_root)
    with pytest.raises(InputError, match="not an id this server gave"):
        store.cover_file(up["upload"] + "\n", "cover.png")
    assert store.media_id(str(env["settings"].service_root / "uploads" / (up["upload"] + "\n") / "0" / "x.jpg")) is None


# 7. only the video is served from a video job's folder

def _finished_job(env) -> dict:
    client, ctx = env["client"], env["context"]
    r = client.post("/videos", json={"draft": {"language": "zh", "context": ctx}})
    assert r.status_code == 202, r.text
    job, _ = follow_job(client, r.json(), poll=0.05)
    assert job["state"] == "done", job
    return job


def test_a_video_job_serves_its_video_only(env):
    client = env["client"]
    job = _finished_job(env)
    r = client.get(f"/videos/{job['id']}/note.mp4")
    assert r.status_code == 200 and r.headers["content-type"] == "video/mp4" and b"ftyp" in r.content
    assert (env["settings"].service_root / "videos" / job["id"] / "secret.txt").is_file()
    for name in ("secret.txt", "cover.png", "..%2Fnote.mp4"):
        r = client.get(f"/videos/{job['id']}/{name}")
        assert r.status_code == 404 and b"not for the client" not in r.content, (name, r.text)
    assert _error(client.get(f"/videos/{job['id']}/secret.txt"), 404)["kind"] == "not_found"


# 8. one error shape, short and plain

def test_errors_have_one_shape_with_public_kinds_and_short_echoes(env):
    client, ctx = env["client"], env["context"]
    assert _error(client.get("/videos/0123456789abcdef"), 404)["kind"] == "not_found"
    assert _error(client.delete("/videos/nope"), 404)["kind"] == "not_found"
    body = _error(client.get("/no/such/endpoint"), 404)
    assert body["kind"] == "not_found" and "/no/such/endpoint" in body["error"], body
    r = client.put("/health")
    body = _error(r, 405)
    assert body["kind"] == "method_not_allowed" and "GET" in r.headers.get("allow", ""), body
    cover_id = Store.new_id()
    (env["settings"].service_root / "covers" / cover_id).mkdir()
    for url, status in [(f"/covers/{cover_id}/{'长' * 1000}.png", 400), (f"/covers/{'x' * 5000}/a.png", 400),
                        (f"/videos/{'x' * 5000}", 404), (f"/videos/{'x' * 5000}/note.mp4", 404),
                        ("/" + "x" * 5000, 404)]:
        error = _error(client.get(url), status)["error"]
        assert "长" * 61 not in error and "x" * 61 not in error, (url[:40], error)
    r = client.post("/soundtrack", content='{"query": "海", "top": %s}' % ("1" * 5001),
                    headers={"content-type": "application/json"})
    error = _error(r, 400)["error"]
    assert "number too large" in error and "sys." not in error, error
    r = client.post("/soundtrack", content='{"query": "海", "length": 1e999}', headers={"content-type": "application/json"})
    assert "number too large" in _error(r, 400)["error"]
    for headers in ({"content-type": "application/json"}, {}):
        error = _error(client.post("/caption", content=b"", headers=headers), 422)["error"]
        assert error == "request body: empty (send a JSON object)", error
    r = client.post("/caption", content=b'{"context": ', headers={"content-type": "application/json"})
    assert _error(r, 422)["error"] == "request body: not valid JSON (Expecting value)"
    error = _error(client.post("/caption", json=[ctx]), 422)["error"]
    assert error.startswith("request body: ") and not error.startswith("request body: :"), error


# 9. messages name media by their ids

def test_warnings_name_media_by_id_never_by_the_uploads_folders(env):
    client, photos = env["client"], env["photos"]
    data = photos[0].read_bytes()
    up = client.post("/uploads", files=[("files", ("半张.jpg", data[: len(data) // 2])),
                                        ("files", ("花.jpg", photos[1].read_bytes()))]).json()
    r = client.post("/understand", json={"media": [f["id"] for f in up["files"]]})
    assert r.status_code == 200, r.text
    ctx = r.json()
    cut = up["files"][0]["id"]
    assert ctx["warnings"] and all("uploads" not in w and up["upload"] + "/" not in w for w in ctx["warnings"])
    assert any(w.startswith(f"{cut}: ") and "truncated" in w for w in ctx["warnings"]), ctx["warnings"]
    # a video job's warnings, too (the fake render names the first photo by its server path)
    job = _finished_job(env)
    first = env["context"]["items"][0]["path"]
    assert job["video"]["warnings"] == [f"{first}: shown for 1.0 s"], job
    assert_no_server_path(job, env["tmp"])


def test_the_readme_states_the_text_caps():
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    serve = text[text.index("## The Assistant as a service"):]
    assert "500 characters" in serve[: serve.index("\n## ", 5)]


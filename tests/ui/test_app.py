"""The editor's entry (ui/app.py: navigation, language, open draft) and `creator ui`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.ui.conftest import DRAFT_ID
from ui.launch import add_ui_parser, app_path, streamlit_command

APP = str(Path(__file__).resolve().parents[2] / "ui" / "app.py")


def test_opens_on_start_in_chinese_and_switches_to_english(drafts_root):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.header[0].value == "开始"
    assert at.button[0].label == "生成草稿"
    at.sidebar.get("button_group")[0].set_value("en").run()
    assert not at.exception
    assert at.header[0].value == "Start"
    assert at.query_params["lang"] == "en"


def test_the_open_draft_stays_in_the_url(saved_draft):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["draft"] = DRAFT_ID
    at.run()
    assert not at.exception
    assert at.query_params["draft"] == DRAFT_ID
    assert any("杭州｜秋天的西湖慢慢走" in c.value for c in at.sidebar.caption)


def test_a_draft_in_a_chinese_named_folder_opens(saved_draft, drafts_root):
    """`creator make -o 草稿/京都 秋` writes a folder the Drafts page listed and then would
    not open ("请先…上传照片"), and deleting it said the name was not plain."""
    _, folder = saved_draft
    folder.rename(drafts_root / "京都 秋")
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["draft"] = "京都 秋"
    at.run()
    assert not at.exception
    assert at.query_params["draft"] == "京都 秋"
    assert any("杭州｜秋天的西湖慢慢走" in c.value for c in at.sidebar.caption)


def test_a_bad_draft_id_in_the_url_is_ignored(drafts_root):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["draft"] = "../../etc"
    at.run()
    assert not at.exception
    assert any(c.value == "还没有打开草稿" for c in at.sidebar.caption)


def _local(monkeypatch, *roots: Path) -> None:
    """The editor as `creator ui` serves it by default (127.0.0.1), reading only ``roots``."""
    monkeypatch.setenv("CREATOR_UI_HOST", "127.0.0.1")
    monkeypatch.setenv("CREATOR_UI__LOCAL_ROOTS", json.dumps([str(r) for r in roots]))


def test_start_asks_for_media_first(drafts_root, tmp_path, monkeypatch):
    _local(monkeypatch, tmp_path)
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.button[0].click().run()
    assert at.warning and "上传" in at.warning[0].value
    at.text_input[0].set_value(str(tmp_path / "没有这个文件夹")).run()
    at.button[0].click().run()
    assert at.error and str(tmp_path / "没有这个文件夹") in at.error[0].value
    assert not drafts_root.exists() or not any(drafts_root.iterdir())


def test_no_folder_field_unless_served_on_this_computer(drafts_root, monkeypatch):
    monkeypatch.setenv("CREATOR_UI_HOST", "0.0.0.0")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert [w.label for w in at.text_input] == ["一句话提示（可选）"]  # only the hint


def test_the_same_photo_uploaded_twice_is_kept_once(drafts_root, tmp_path):
    """Two uploads with identical content got one item id and crashed the Media page
    (StreamlitDuplicateElementKey)."""
    from creator.types import Draft
    from tests.factories import make_photo
    from tests.ui.conftest import panel_script

    photo = make_photo(tmp_path / "西湖.jpg", "china", size=(320, 240)).read_bytes()
    other = make_photo(tmp_path / "灵隐寺.jpg", "flower", size=(320, 240)).read_bytes()
    at = AppTest.from_file(APP, default_timeout=240).run()
    at.file_uploader[0].set_value([("西湖.jpg", photo, "image/jpeg"), ("西湖 副本.jpg", photo, "image/jpeg"),
                                   ("灵隐寺.jpg", other, "image/jpeg")]).run()
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    did = at.query_params["draft"]
    draft = Draft.load(drafts_root / did)
    assert sorted(Path(i.path).name for i in draft.context.items) == ["灵隐寺.jpg", "西湖.jpg"]
    assert sorted(p.name for p in (drafts_root / did / "media").iterdir()) == ["灵隐寺.jpg", "西湖.jpg"]
    note = "西湖 副本.jpg 与 西湖.jpg 内容完全相同，只保留了一份"
    assert note in draft.warnings and any(w.value == note for w in at.warning)  # said on the caption page
    media = AppTest.from_string(panel_script("media"), default_timeout=60)
    media.query_params["draft"] = did
    media.run()
    assert not media.exception, [e.value for e in media.exception]
    assert len(media.multiselect) == 2


def test_creator_ui_command_line():
    parser = argparse.ArgumentParser()
    add_ui_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["ui", "--port", "8600", "--profile", "lite", "--drafts", "/tmp/草稿", "--headless"])
    assert (args.port, args.profile, args.drafts, args.headless) == (8600, "lite", "/tmp/草稿", True)
    cmd = streamlit_command(port=args.port, headless=True)
    assert cmd[:4] == [sys.executable, "-m", "streamlit", "run"]
    assert Path(cmd[4]) == app_path() and app_path().is_file() and app_path().name == "app.py"
    assert cmd[cmd.index("--browser.gatherUsageStats") + 1] == "false"
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"


def test_creator_ui_tells_the_app_its_host_and_the_upload_limit(monkeypatch):
    """`creator ui --host` reaches the app (CREATOR_UI_HOST and Streamlit's own
    server.address), and Streamlit refuses uploads over Settings.ui.upload_max_mb."""
    import subprocess

    from ui import launch

    seen = {}
    monkeypatch.setattr(subprocess, "call", lambda cmd, env: seen.update(cmd=cmd, env=env) or 0)
    monkeypatch.setenv("CREATOR_UI__UPLOAD_MAX_MB", "50.5")
    parser = argparse.ArgumentParser()
    add_ui_parser(parser.add_subparsers(dest="command"))
    assert launch.run_ui(parser.parse_args(["ui", "--host", "0.0.0.0", "--headless"])) == 0
    assert seen["env"][launch.HOST_ENV] == "0.0.0.0"
    cmd = seen["cmd"]
    assert cmd[cmd.index("--server.address") + 1] == "0.0.0.0"
    assert cmd[cmd.index("--server.maxUploadSize") + 1] == "51"
    monkeypatch.setenv("CREATOR_UI__UPLOAD_MAX_MB", "-1")  # a bad setting: one line, no server
    assert launch.run_ui(parser.parse_args(["ui"])) == 2


def test_start_generates_a_draft_from_a_folder_and_opens_it(drafts_root, tmp_path, monkeypatch):
    from datetime import datetime

    from creator.types import Draft
    from tests.factories import make_photo

    _local(monkeypatch, tmp_path)
    folder = tmp_path / "杭州之旅"
    photos = [make_photo(folder / f"照片{k}.jpg", "china" if k == 0 else None, size=(320, 240),
                         taken_at=datetime(2025, 10, 3, 9 + k), gps=(30.25, 120.15)) for k in range(3)]
    before = [p.read_bytes() for p in photos]
    at = AppTest.from_file(APP, default_timeout=240).run()
    at.text_input[0].set_value(str(folder))
    at.text_input[1].set_value("第一次和朋友来")
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    did = at.query_params["draft"]
    draft = Draft.load(drafts_root / did)
    assert len(draft.context.ok_items) == 3
    assert draft.caption and draft.tracks and draft.covers
    assert at.header[0].value == "文案"  # the caption page opened
    assert at.text_input[0].value == draft.caption.title
    assert at.success and "3" in at.success[0].value
    assert [p.read_bytes() for p in photos] == before  # originals untouched


def test_creator_ui_serves_the_editor(tmp_path):
    """run_ui starts `python -m streamlit run <installed ui/app.py>`; it answers on the port."""
    import os
    import signal
    import socket
    import subprocess
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = ("import argparse, sys; from ui.launch import add_ui_parser, run_ui; "
            "p = argparse.ArgumentParser(); add_ui_parser(p.add_subparsers()); "
            f"sys.exit(run_ui(p.parse_args(['ui', '--headless', '--port', '{port}', '--drafts', sys.argv[1]])))")
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "草稿")], cwd=tmp_path,
                            env=dict(os.environ, PYTHONPATH=str(root)), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert proc.poll() is None, proc.stdout.read().decode(errors="replace")
                assert time.monotonic() < deadline, "the editor did not start in 60 s"
                time.sleep(0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            assert b"<html" in r.read().lower()
    finally:
        # run_ui's child (streamlit) is in the same process group: stop both
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            os.killpg(proc.pid, signal.SIGKILL)


def test_start_generates_a_draft_from_uploaded_photos(drafts_root, tmp_path):
    from creator.types import Draft
    from tests.factories import make_photo

    photos = [make_photo(tmp_path / f"上传_{k}.jpg", ["china", "flower"][k], size=(320, 240)) for k in range(2)]
    at = AppTest.from_file(APP, default_timeout=240).run()
    at.file_uploader[0].set_value([(p.name, p.read_bytes(), "image/jpeg") for p in photos])
    at.run()
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    folder = drafts_root / at.query_params["draft"]
    draft = Draft.load(folder)
    # the uploads were copied into the draft's own folder, names kept
    assert sorted(Path(i.path).name for i in draft.context.items) == ["上传_0.jpg", "上传_1.jpg"]
    assert all(Path(i.path).parent == folder / "media" for i in draft.context.items)
    assert at.header[0].value == "文案"

"""The OpenAI-compatible backend against a real chat-completions server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from creator.config import CaptionSettings
from pipelines.caption import CaptionRequest, Pipeline, caption_problems
from tests.pipelines.caption.contexts import kyoto

GOOD_EN = {
    "title": "Kyoto in autumn 🍁",
    "body": "📍 Kyoto, Japan   🗓 Nov 16–18\n\nThree slow days of temples and autumn leaves.\n\n"
            "Day 1 — We started at a temple while the autumn leaves glowed, then wandered the streets "
            "for food.\n\nTip: temples close early, so go in the morning.",
    "hashtags": ["#Kyoto", "Temples", "Autumn Leaves", "Temples"],
}
GOOD_ZH = {
    "title": "京都三日｜红叶和寺庙🍁",
    "body": "📍 日本·京都　🗓 11.16–11.18\n\n秋天的京都，寺庙和红叶都刚刚好。\n\nDay 1｜一早去了寺里，红叶正好。\n\n"
            "💡 小贴士\n· 寺庙关门早，上午去。",
    "hashtags": ["京都", "京都旅行", "红叶", "寺庙"],
}


class ChatServer:
    """A chat-completions endpoint that answers from a script and records each request."""

    def __init__(self, replies):
        self.replies = list(replies)
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                reply = outer.replies.pop(0) if len(outer.replies) > 1 else outer.replies[0]
                if isinstance(reply, int):  # an HTTP error status
                    self.send_response(reply)
                    self.end_headers()
                    self.wfile.write(b'{"error": "boom"}')
                    return
                data = json.dumps({"id": "x", "object": "chat.completion", "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}]})
                raw = data.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


def run(server, monkeypatch, *, lang="en", n=1, retries=2, **req):
    monkeypatch.setenv("TEST_CAPTION_KEY", "sk-test-密钥-123".encode().hex())
    settings = CaptionSettings(backend="openai", base_url=server.url, openai_model="tiny-chat",
                               api_key_env="TEST_CAPTION_KEY", retries=retries, timeout=10)
    return Pipeline(settings)(CaptionRequest(context=kyoto(), language=lang, n=n, seed=1, **req))


def test_valid_reply_is_parsed_repaired_and_sent_with_the_key(monkeypatch):
    with ChatServer([f"Here you go:\n```json\n{json.dumps(GOOD_EN)}\n```"]) as server:
        out = run(server, monkeypatch)
    c = out.captions[0]
    assert c.backend == "openai:tiny-chat" and c.notes == []
    assert c.title == "Kyoto in autumn 🍁"
    assert c.hashtags == ["Kyoto", "Temples", "AutumnLeaves"]  # '#', spaces and repeats repaired
    assert caption_problems(c, kyoto()) == []
    (req,) = server.requests
    assert req["path"] == "/v1/chat/completions"
    assert req["headers"]["Authorization"] == "Bearer " + "sk-test-密钥-123".encode().hex()
    body = req["body"]
    assert body["model"] == "tiny-chat" and body["messages"][0]["role"] == "system"
    assert "Kyoto" in body["messages"][1]["content"] and "temple" in body["messages"][1]["content"]
    assert [a.problems for a in out.attempts] == [[]]


def test_zh_reply_and_keyword_repair(monkeypatch):
    with ChatServer([json.dumps(GOOD_ZH, ensure_ascii=False)]) as server:
        out = run(server, monkeypatch, lang="zh", keywords=["带爸妈"])
    c = out.captions[0]
    assert c.backend == "openai:tiny-chat", out.attempts
    assert "带爸妈" in c.body  # the missing keyword was added by the repair
    assert "带爸妈" in server.requests[0]["body"]["messages"][1]["content"]


def test_invalid_then_valid_retries(monkeypatch):
    bad_place = dict(GOOD_EN, body=GOOD_EN["body"] + "\n\nThen a day trip to Tokyo.")
    with ChatServer(["not json at all", json.dumps(bad_place), json.dumps(GOOD_EN)]) as server:
        out = run(server, monkeypatch, retries=2)
    c = out.captions[0]
    assert c.backend == "openai:tiny-chat"
    assert len(server.requests) == 3
    assert "unparsable" in out.attempts[0].problems[0]
    assert any("Tokyo" in p for p in out.attempts[1].problems)
    # the retry shows the model its answer and what was wrong
    retry = server.requests[2]["body"]["messages"]
    assert retry[2]["role"] == "assistant" and "Tokyo" in retry[3]["content"]
    assert server.requests[1]["body"]["seed"] != server.requests[0]["body"]["seed"]


def test_garbage_always_falls_back_to_the_template_with_a_note(monkeypatch):
    with ChatServer(["🙂 lorem ipsum {{{"]) as server:
        out = run(server, monkeypatch, retries=1, n=2)
    assert len(server.requests) == 4  # 2 drafts x (1 + 1 retry)
    for c in out.captions:
        assert c.backend == "template (fallback: openai:tiny-chat)"
        assert any("template draft" in n for n in c.notes)
        assert caption_problems(c, kyoto()) == []
    assert out.captions[0].text() != out.captions[1].text()


def test_http_errors_and_unreachable_server_fall_back(monkeypatch):
    with ChatServer([500]) as server:
        out = run(server, monkeypatch, retries=1)
    assert out.captions[0].backend.startswith("template (fallback")
    assert "HTTP 500" in out.captions[0].notes[-1]
    settings = CaptionSettings(backend="openai", base_url="http://127.0.0.1:9/v1", retries=0, timeout=2)
    c = Pipeline(settings)(CaptionRequest(context=kyoto(), language="en")).captions[0]
    assert c.backend.startswith("template (fallback") and "could not reach" in c.notes[-1]


def test_no_key_no_authorization_header(monkeypatch):
    monkeypatch.delenv("NO_SUCH_CAPTION_KEY", raising=False)
    with ChatServer([json.dumps(GOOD_EN)]) as server:
        settings = CaptionSettings(backend="openai", base_url=server.url, api_key_env="NO_SUCH_CAPTION_KEY")
        Pipeline(settings)(CaptionRequest(context=kyoto(), language="en"))
    assert "Authorization" not in server.requests[0]["headers"]


def test_bad_base_url_is_a_config_error():
    from creator.errors import ConfigError

    with pytest.raises(ConfigError, match="base_url"):
        Pipeline(CaptionSettings(backend="openai", base_url="localhost:11434"))(
            CaptionRequest(context=kyoto()))

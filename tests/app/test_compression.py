"""The page and its JSON go out gzipped, and the queue's event stream still works through the middleware."""

from __future__ import annotations

import os

import httpx
import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from gradio_client import Client  # noqa: E402

from app.services import Studio  # noqa: E402
from app.studio import build_studio, launch_kwargs  # noqa: E402
from tests.browser.conftest import _wait_for_http, free_port  # noqa: E402


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    demo = build_studio(Studio.load("debug", device="cpu", cache_dir=tmp_path_factory.mktemp("gzip")))
    port = free_port()
    demo.queue().launch(
        server_name="127.0.0.1",
        server_port=port,
        prevent_thread_lock=True,
        quiet=True,
        ssr_mode=False,
        **launch_kwargs(),
    )
    address = f"http://127.0.0.1:{port}/"
    _wait_for_http(address)
    yield address
    demo.close()


@pytest.mark.parametrize("path", ["", "config", "gradio_api/info"])
def test_page_and_json_are_gzipped(url, path):
    plain = httpx.get(url + path, headers={"Accept-Encoding": "identity"})
    packed = httpx.get(url + path, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert plain.headers.get("content-encoding") is None
    assert packed.headers.get("content-encoding") == "gzip"
    assert packed.content == plain.content  # the same page, decoded
    assert packed.num_bytes_downloaded < 0.2 * len(plain.content)


def test_a_generation_streams_through_the_middleware(url):
    result = Client(url, verbose=False, download_files=False).predict(num_bars=2, api_name="/compose")
    assert "cz-okay" in result[0], result[0]

"""The clients' token against the real gateway's ``api.token`` (issue 17): ``token=`` (or
``$TAPIGW_TOKEN``) sends ``authenticate`` first, a wrong or missing token raises
AuthenticationError, and the asyncio client does the same."""

from __future__ import annotations

import asyncio

import pytest

import tapigw
import tapigw.aio
from conftest import line_config, free_port

TOKEN = "py-token-1234"


def _gateway(gateway_factory):
    return gateway_factory(line_config(free_port()), api_extra=f'token = "{TOKEN}"')


def test_the_right_token_opens_the_api(gateway_factory, monkeypatch):
    gw = _gateway(gateway_factory)
    c = tapigw.connect(gw.api, token=TOKEN)
    app = c.lineInitializeEx(appName="py", apiVersion=tapigw.API_VERSION, options=1)
    assert app["numDevs"] == 1
    c.close()
    monkeypatch.setenv("TAPIGW_TOKEN", TOKEN)
    c = tapigw.connect(gw.api)
    assert c.lineInitializeEx(appName="env", apiVersion=tapigw.API_VERSION, options=1)["hLineApp"]
    c.close()


def test_a_wrong_or_missing_token_raises(gateway_factory, monkeypatch):
    gw = _gateway(gateway_factory)
    with pytest.raises(tapigw.AuthenticationError):
        tapigw.connect(gw.api, token="wrong")
    monkeypatch.delenv("TAPIGW_TOKEN", raising=False)
    c = tapigw.connect(gw.api)
    with pytest.raises(tapigw.AuthenticationError) as err:
        c.lineInitializeEx(appName="none", apiVersion=tapigw.API_VERSION, options=1)
    assert err.value.code == -32001
    c.close()


def test_the_asyncio_client_sends_the_token(gateway_factory):
    gw = _gateway(gateway_factory)

    async def run():
        c = await tapigw.aio.connect(gw.api, token=TOKEN)
        app = await c.lineInitializeEx(appName="aio", apiVersion=tapigw.API_VERSION, options=1)
        await c.close()
        with pytest.raises(tapigw.AuthenticationError):
            await tapigw.aio.connect(gw.api, token="wrong")
        return app["numDevs"]

    assert asyncio.run(run()) == 1

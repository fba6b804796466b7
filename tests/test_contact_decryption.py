"""The three platforms' receiver-decryption adapters, against the local simulator over real HTTP.

Each adapter must sign the way its platform checks, send the ciphertext with
the order it belongs to, respect the platform's per-call limit, and turn
every refusal (bad signature, expired session, throttling, timeouts) into a
typed ``DecryptRefused`` that carries no credentials and no personal data.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import httpx
import pytest

from adapters.channels.decryption import DECRYPTORS
from adapters.channels.decryption.simulator import DecryptSimulator, Profile, account_config
from adapters.channels.decryption.transport import DEFAULT_TIMEOUT, account
from domain.contacts.ports import DecryptRefused, SealedReceiver
from tests.decryption_support import PEOPLE, running_simulator
from tests.served import free_port

PLATFORMS = ("taobao", "pinduoduo", "douyin")


def sealed(sim: DecryptSimulator, platform: str, count: int, *, first_id: int = 1) -> list[SealedReceiver]:
    """``count`` orders of ``platform`` with receivers sealed by the simulator (ids from ``first_id``)."""
    batch = []
    for n in range(count):
        name, phone, address = PEOPLE[n % len(PEOPLE)]
        external_id = f"{platform[:2].upper()}{900000000000 + first_id + n}"
        s = sim.seal(platform, external_id, name, phone, address)
        batch.append(SealedReceiver(order_id=first_id + n, external_id=external_id, name_cipher=s.name_cipher,
                                    phone_cipher=s.phone_cipher, address_cipher=s.address_cipher, open_id=s.open_id))
    return batch


def expected(batch: Sequence[SealedReceiver]) -> dict[int, tuple[str, str, str]]:
    return {r.order_id: PEOPLE[(r.order_id - 1) % len(PEOPLE)] for r in batch}


def as_tuples(receivers) -> dict[int, tuple[str, str, str]]:  # noqa: ANN001 - Mapping[int, ClearReceiver]
    return {order_id: (r.name, r.phone, r.address) for order_id, r in receivers.items()}


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_a_batch_decrypts_to_the_clear_receivers_in_one_call(platform: str) -> None:
    async with running_simulator() as running:
        batch = sealed(running.sim, platform, 5)
        result = await DECRYPTORS[platform].decrypt(account_config(platform, running.base_url), batch)
        assert as_tuples(result.receivers) == expected(batch)
        assert result.refused == {}
        assert running.sim.calls[platform] == 1


@pytest.mark.parametrize(("platform", "per_call"), [("taobao", 20), ("pinduoduo", 33), ("douyin", 16)])
async def test_batches_over_the_platform_limit_are_split_at_it(platform: str, per_call: int) -> None:
    """Taobao takes 20 queries a call, Pinduoduo 100 ciphertexts, Douyin 50: the adapter never asks for more."""
    async with running_simulator() as running:
        batch = sealed(running.sim, platform, per_call + 1)
        result = await DECRYPTORS[platform].decrypt(account_config(platform, running.base_url), batch)
        assert as_tuples(result.receivers) == expected(batch)
        assert running.sim.calls[platform] == 2


@pytest.mark.parametrize(("platform", "sign_method"),
                         [("taobao", "md5"), ("taobao", "hmac"), ("taobao", "hmac-sha256"),
                          ("douyin", "md5"), ("douyin", "hmac-sha256")])
async def test_every_sign_method_the_platform_offers_is_accepted(platform: str, sign_method: str) -> None:
    async with running_simulator() as running:
        batch = sealed(running.sim, platform, 2)
        config = account_config(platform, running.base_url, sign_method=sign_method)
        result = await DECRYPTORS[platform].decrypt(config, batch)
        assert as_tuples(result.receivers) == expected(batch)


@pytest.mark.parametrize(("platform", "code"),
                         [("taobao", "25"), ("pinduoduo", "20004"), ("douyin", "40003/isv.signature-invalid")])
async def test_a_wrong_secret_is_refused_as_a_bad_signature(platform: str, code: str) -> None:
    async with running_simulator() as running:
        config = {**account_config(platform, running.base_url), "app_secret": "not-the-secret"}
        with pytest.raises(DecryptRefused) as refused:
            await DECRYPTORS[platform].decrypt(config, sealed(running.sim, platform, 1))
        assert refused.value.platform_code == code
        assert not refused.value.session_expired


@pytest.mark.parametrize(("platform", "code"),
                         [("taobao", "27/invalid-sessionkey"), ("pinduoduo", "10019"),
                          ("douyin", "40003/isv.access-token-expired")])
async def test_an_expired_session_is_refused_as_such_and_names_no_secret(platform: str, code: str) -> None:
    async with running_simulator(profile=Profile(expired=True)) as running:
        config = account_config(platform, running.base_url)
        with pytest.raises(DecryptRefused) as refused:
            await DECRYPTORS[platform].decrypt(config, sealed(running.sim, platform, 3))
        assert refused.value.platform_code == code
        assert refused.value.session_expired
        shown = f"{refused.value} {refused.value!r} {refused.value.message}"
        for secret in (config["app_secret"], config.get("session") or config.get("access_token")):
            assert secret not in shown
        for name, phone, address in PEOPLE:
            assert name not in shown and phone not in shown


@pytest.mark.parametrize(("platform", "code"),
                         [("taobao", "15/isp.top-remote-connection-timeout"), ("pinduoduo", "52101"),
                          ("douyin", "20000/dop.service-error")])
async def test_transient_platform_errors_are_retryable_refusals(platform: str, code: str) -> None:
    async with running_simulator(profile=Profile(error_rate=1.0)) as running:
        with pytest.raises(DecryptRefused) as refused:
            await DECRYPTORS[platform].decrypt(account_config(platform, running.base_url), sealed(running.sim, platform, 2))
        assert refused.value.platform_code == code
        assert refused.value.retryable


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_a_ciphertext_of_another_order_is_refused_alone(platform: str) -> None:
    """The platform binds ciphertext to its order: swapping orders gets that one refused, the rest decrypted."""
    async with running_simulator() as running:
        batch = sealed(running.sim, platform, 3)
        first, second, third = batch
        swapped = SealedReceiver(order_id=first.order_id, external_id=second.external_id,
                                 name_cipher=first.name_cipher, phone_cipher=first.phone_cipher,
                                 address_cipher=first.address_cipher, open_id=first.open_id)
        result = await DECRYPTORS[platform].decrypt(account_config(platform, running.base_url), [swapped, second, third])
        assert as_tuples(result.receivers) == {k: v for k, v in expected(batch).items() if k != first.order_id}
        assert set(result.refused) == {first.order_id}


async def test_a_slow_platform_is_a_timeout_refusal_not_a_hang() -> None:
    async with running_simulator(profile=Profile(latency_ms=1500)) as running:
        config = account_config("pinduoduo", running.base_url, timeout_seconds=0.3)
        with pytest.raises(DecryptRefused) as refused:
            await DECRYPTORS["pinduoduo"].decrypt(config, sealed(running.sim, "pinduoduo", 1))
        assert refused.value.platform_code == "TIMEOUT"
        assert refused.value.retryable


async def test_an_unreachable_gateway_is_refused_without_its_url() -> None:
    sim = DecryptSimulator()
    config = account_config("douyin", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(DecryptRefused) as refused:
        await DECRYPTORS["douyin"].decrypt(config, sealed(sim, "douyin", 1))
    assert refused.value.platform_code == "UNREACHABLE"
    assert config["access_token"] not in str(refused.value)


@pytest.mark.parametrize(("key", "value", "field"),
                         [("app_secret", "", "config.api.app_secret"), ("session", None, "config.api.session"),
                          ("sign_method", "sha1", "config.api.sign_method"),
                          ("timeout_seconds", 0, "config.api.timeout_seconds"),
                          ("base_url", "ftp://x", "config.api.base_url")])
async def test_a_channel_without_usable_credentials_is_refused_naming_the_key(key: str, value: object, field: str) -> None:
    config = {**account_config("taobao", "http://127.0.0.1:1"), key: value}
    with pytest.raises(DecryptRefused) as refused:
        await DECRYPTORS["taobao"].decrypt(config, sealed(DecryptSimulator(), "taobao", 1))
    assert refused.value.platform_code == "NOT_CONFIGURED"
    assert refused.value.field == field


async def test_a_taobao_order_without_oaid_is_refused_without_a_call() -> None:
    async with running_simulator() as running:
        result = await DECRYPTORS["taobao"].decrypt(account_config("taobao", running.base_url),
                                                    [SealedReceiver(order_id=7, external_id="4000001")])
        assert result.refused == {7: "NO_OAID"}
        assert running.sim.calls["taobao"] == 0


# ---------------------------------------------------------------- the simulator itself, over raw HTTP


async def test_the_simulator_refuses_a_douyin_body_changed_after_signing() -> None:
    async with running_simulator() as running:
        decryptor = DECRYPTORS["douyin"]
        target = account("douyin", account_config("douyin", running.base_url), token_key="access_token",
                         default_url="", sign_methods=("hmac-sha256",))
        query, body = decryptor.signed_request(target, sealed(running.sim, "douyin", 1))
        tampered = body.replace("DO9", "DO8")
        async with httpx.AsyncClient(base_url=running.base_url, timeout=DEFAULT_TIMEOUT) as http:
            answer = (await http.post("/order/batchDecrypt", params=query, content=tampered.encode())).json()
            honest = (await http.post("/order/batchDecrypt", params=query, content=body.encode())).json()
        assert (answer["code"], answer["sub_code"]) == (40003, "isv.signature-invalid")
        assert honest["code"] == 10000


async def test_faults_can_be_asked_for_in_the_query_string_and_set_over_http() -> None:
    async with running_simulator() as running:
        decryptor = DECRYPTORS["pinduoduo"]
        target = account("pinduoduo", account_config("pinduoduo", running.base_url), token_key="access_token",
                         default_url="", sign_methods=("md5",))
        form = decryptor.signed_form(target, sealed(running.sim, "pinduoduo", 1))
        async with httpx.AsyncClient(base_url=running.base_url, timeout=DEFAULT_TIMEOUT) as http:
            expired = (await http.post("/api/router?sim_expired=1", data=form)).json()
            assert expired["error_response"]["error_code"] == 10019
            assert (await http.put("/_sim/profile", json={"error_rate": 2})).status_code == 422
            assert (await http.put("/_sim/profile", json={"expired": True})).json()["expired"] is True
            assert (await http.post("/api/router", data=form)).json()["error_response"]["error_code"] == 10019
            calls = (await http.get("/_sim/calls")).json()
        assert calls["calls"] == {"pinduoduo": 2}


async def test_ciphertext_issued_over_http_decrypts_through_the_adapter() -> None:
    async with running_simulator() as running:
        async with httpx.AsyncClient(base_url=running.base_url, timeout=DEFAULT_TIMEOUT) as http:
            refused = await http.post("/_sim/seal", json={"platform": "douyin", "order_id": "1", "name": "张伟"})
            issued = (await http.post("/_sim/seal", json={"platform": "douyin", "order_id": "6912345678901234567",
                                                           "name": "赵敏", "phone": "13600136004",
                                                           "address": "中关村大街 27 号"})).json()
        assert refused.status_code == 422 and "phone" in refused.json()["error"]
        assert issued["phone_cipher"].startswith("$") and issued["name_cipher"].startswith("#")
        shown = json.dumps(issued, ensure_ascii=False)
        assert "赵敏" not in shown and "13600136004" not in shown and "中关村大街 27 号" not in shown
        receiver = SealedReceiver(order_id=1, external_id="6912345678901234567", name_cipher=issued["name_cipher"],
                                  phone_cipher=issued["phone_cipher"], address_cipher=issued["address_cipher"])
        result = await DECRYPTORS["douyin"].decrypt(account_config("douyin", running.base_url), [receiver])
        assert as_tuples(result.receivers) == {1: ("赵敏", "13600136004", "中关村大街 27 号")}


async def test_another_simulator_key_cannot_open_the_ciphertext() -> None:
    async with running_simulator(key=b"another-key") as running:
        issuer = DecryptSimulator()
        result = await DECRYPTORS["pinduoduo"].decrypt(account_config("pinduoduo", running.base_url),
                                                       sealed(issuer, "pinduoduo", 2))
        assert result.receivers == {}
        assert set(result.refused) == {1, 2}

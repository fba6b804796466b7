"""The messengers against local servers speaking their formats: WeCom and DingTalk robots, and SMTP (aiosmtpd).

The robot simulator checks what the real services check (WeCom's key, DingTalk's
timestamp and HMAC signature and keyword), so a wrong signature is refused
there, not by a mock.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest

from adapters.notify import NOTIFIERS, aclose
from adapters.notify.dingtalk import signed_url
from adapters.notify.mailbox import Mailbox
from adapters.notify.simulator import DingTalkBot, RobotSimulator
from domain.errors import ValidationFailed
from domain.notifications import config as configs
from domain.notifications.ports import Notice, NotifyFailed, redacted
from tests.live_fixtures import free_port, serve_asgi

SECRET = "SECb1f6a0d3c7e24e5f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6"
NOTICE = Notice(title="【严重】库存告警 · low_stock", body="**类型**：low_stock\n\n**说明**：TEA 只剩 3 件", language="zh")


@pytest.fixture
async def robots() -> AsyncIterator[tuple[RobotSimulator, str]]:
    sim = RobotSimulator(wecom_keys={"wk-1"}, dingtalk={"dt-1": DingTalkBot(secret=SECRET),
                                                          "dt-kw": DingTalkBot(keyword="OrderGraph")})
    async with serve_asgi(sim.app()) as base:
        yield sim, base
    await aclose()


async def _refusal(target: str, config: dict, notice: Notice = NOTICE) -> NotifyFailed:
    with pytest.raises(NotifyFailed) as caught:
        await NOTIFIERS[target].send(config, notice)
    return caught.value


async def test_dingtalk_signed_message_is_verified_and_accepted(robots):
    sim, base = robots
    await NOTIFIERS["dingtalk"].send({"access_token": "dt-1", "secret": SECRET, "base_url": base}, NOTICE)
    [message] = await sim.wait_for(1, robot="dingtalk")
    assert message["body"]["msgtype"] == "markdown"
    assert message["title"] == NOTICE.title
    assert "TEA 只剩 3 件" in message["text"] and message["text"].startswith("#### " + NOTICE.title)


async def test_dingtalk_wrong_secret_is_refused_with_310000_and_not_retried(robots):
    sim, base = robots
    failure = await _refusal("dingtalk", {"access_token": "dt-1", "secret": SECRET[:-1] + "0", "base_url": base})
    assert "310000" in failure.reason and not failure.retryable
    assert SECRET[:-1] not in failure.reason
    assert sim.messages == []


async def test_dingtalk_refuses_a_timestamp_more_than_an_hour_old(robots):
    sim, base = robots
    stale = int(time.time() * 1000) - 2 * 3600 * 1000
    async with httpx.AsyncClient() as http:
        answer = (await http.post(signed_url(base, "dt-1", SECRET, stale),
                                  json={"msgtype": "markdown", "markdown": {"title": "t", "text": "x"}})).json()
        fresh = (await http.post(signed_url(base, "dt-1", SECRET),
                                 json={"msgtype": "markdown", "markdown": {"title": "t", "text": "x"}})).json()
    assert answer["errcode"] == 310000 and fresh["errcode"] == 0


async def test_dingtalk_keyword_robot_needs_the_keyword_and_unknown_tokens_are_refused(robots):
    sim, base = robots
    failure = await _refusal("dingtalk", {"access_token": "dt-kw", "base_url": base})
    assert "310000" in failure.reason and not failure.retryable
    await NOTIFIERS["dingtalk"].send({"access_token": "dt-kw", "keyword": "OrderGraph", "base_url": base}, NOTICE)
    assert "OrderGraph" in (await sim.wait_for(1))[0]["text"]
    unknown = await _refusal("dingtalk", {"access_token": "nope", "base_url": base})
    assert "300001" in unknown.reason and not unknown.retryable


async def test_dingtalk_sending_too_fast_is_retryable(robots):
    sim, base = robots
    sim.fail_next(1, robot="dingtalk", errcode=130101)
    failure = await _refusal("dingtalk", {"access_token": "dt-1", "secret": SECRET, "base_url": base})
    assert "130101" in failure.reason and failure.retryable


async def test_wecom_markdown_is_accepted_and_a_bad_key_refused(robots):
    sim, base = robots
    await NOTIFIERS["wecom"].send({"key": "wk-1", "base_url": base}, NOTICE)
    [message] = await sim.wait_for(1, robot="wecom")
    assert message["body"] == {"msgtype": "markdown", "markdown": {"content": f"## {NOTICE.title}\n{NOTICE.body}"}}
    failure = await _refusal("wecom", {"key": "wk-2", "base_url": base})
    assert "93000" in failure.reason and not failure.retryable
    assert "wk-2" not in failure.reason


async def test_wecom_rate_limit_and_server_errors_are_retryable(robots):
    sim, base = robots
    config = {"key": "wk-1", "base_url": base}
    sim.fail_next(1, robot="wecom", errcode=45009)
    sim.fail_next(1, robot="wecom", status=503)
    limited = await _refusal("wecom", config)
    down = await _refusal("wecom", config)
    assert "45009" in limited.reason and limited.retryable
    assert "503" in down.reason and down.retryable
    await NOTIFIERS["wecom"].send(config, NOTICE)
    assert len(sim.received("wecom")) == 1


async def test_wecom_long_content_is_cut_to_4096_bytes(robots):
    sim, base = robots
    await NOTIFIERS["wecom"].send({"key": "wk-1", "base_url": base}, Notice(title="长", body="库存" * 3000))
    content = (await sim.wait_for(1))[0]["text"]
    assert len(content.encode()) <= 4096 and content.endswith("…")


async def test_an_unreachable_robot_is_retryable():
    failure = await _refusal("wecom", {"key": "wk-1", "base_url": f"http://127.0.0.1:{free_port()}"})
    assert failure.retryable
    await aclose()


async def test_control_api_sets_robots_and_queues_faults(robots):
    sim, base = robots
    async with httpx.AsyncClient(base_url=base) as http:
        assert (await http.put("/_sim/robots", json={"wecom_keys": ["wk-9"], "dingtalk": {}})).status_code == 200
        assert (await http.post("/_sim/faults", json={"count": 1, "robot": "wecom", "errcode": 45009})).status_code == 200
        assert (await http.post("/_sim/faults", json={"count": 0})).status_code == 400
        assert len((await http.get("/_sim/faults")).json()) == 1
        assert "45009" in (await _refusal("wecom", {"key": "wk-9", "base_url": base})).reason
        await NOTIFIERS["wecom"].send({"key": "wk-9", "base_url": base}, NOTICE)
        assert len((await http.get("/_sim/messages")).json()) == 1
        assert (await http.post("/_sim/reset")).json() == {"ok": True}
        assert (await http.get("/_sim/messages")).json() == []


async def test_email_arrives_with_a_chinese_subject_plain_text_and_html():
    async with Mailbox() as box:
        await NOTIFIERS["email"].send(box.config(to=["ops@example.com", "wh@example.com"]), NOTICE)
        [mail] = await box.wait_for(1)
    assert mail["subject"] == NOTICE.title
    assert sorted(mail["to"]) == ["ops@example.com", "wh@example.com"]
    assert "类型：low_stock" in mail["text"] and "**" not in mail["text"]
    assert "<b>类型</b>" in mail["html"] and "TEA 只剩 3 件" in mail["html"]


async def test_email_over_starttls_with_login():
    async with Mailbox(starttls=True, login=("alerts", "pw-1")) as box:
        await NOTIFIERS["email"].send(box.config(), NOTICE)
        [mail] = await box.wait_for(1)
        assert mail["tls"] is True
        failure = await _refusal("email", box.config(password="wrong"))
    assert "535" in failure.reason and not failure.retryable
    assert "wrong" not in failure.reason


async def test_email_to_a_server_that_is_not_there_is_retryable():
    failure = await _refusal("email", {"host": "127.0.0.1", "port": free_port(), "from": "a@example.com",
                                       "to": ["b@example.com"], "timeout": 5})
    assert failure.retryable


def test_configs_are_normalised_and_secrets_redacted():
    wecom = configs.clean("wecom", {"webhook_url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-123"})
    assert wecom == {"key": "abc-123", "base_url": "https://qyapi.weixin.qq.com"}
    ding = configs.clean("dingtalk", {"webhook_url": "https://oapi.dingtalk.com/robot/send?access_token=tok", "secret": SECRET})
    assert ding["access_token"] == "tok" and ding["secret"] == SECRET and ding["base_url"] == "https://oapi.dingtalk.com"
    shown = redacted(ding)
    assert SECRET not in str(shown) and shown["secret"] == "****" + SECRET[-4:] and shown["access_token"] == "****"
    kept = configs.clean("dingtalk", {"access_token": "tok", "secret": shown["secret"]}, previous=ding)
    assert kept["secret"] == SECRET
    mail = configs.clean("email", {"host": "smtp.example.com", "from": "a@example.com", "to": "b@example.com, c@example.com",
                                   "password": "pw", "username": "a"})
    assert mail["to"] == ["b@example.com", "c@example.com"] and mail["port"] == 587
    assert redacted(mail)["password"] == "****"


@pytest.mark.parametrize(("target", "config", "field"), [
    ("wecom", {}, "config.key"),
    ("wecom", {"key": "k", "base_url": "ftp://x"}, "config.base_url"),
    ("wecom", {"key": "k", "base_url": "https://x.example.com/steal?q=1"}, "config.base_url"),
    ("wecom", {"key": "k", "token": "x"}, "config"),
    ("wecom", {"webhook_url": "https://qyapi.weixin.qq.com/other?key=k"}, "config.webhook_url"),
    ("dingtalk", {"access_token": "t", "secret": "****abcd"}, "config.secret"),
    ("email", {"host": "smtp.example.com", "from": "a@example.com", "to": ["not-an-address"]}, "config.to"),
    ("email", {"host": "smtp.example.com", "from": "a@example.com", "to": []}, "config.to"),
    ("email", {"host": "smtp example", "from": "a@example.com", "to": ["b@example.com"]}, "config.host"),
    ("email", {"host": "smtp.example.com", "port": 70000, "from": "a@example.com", "to": ["b@example.com"]}, "config.port"),
    ("sms", {}, "target"),
])
def test_bad_configs_are_refused_naming_the_field(target, config, field):
    with pytest.raises(ValidationFailed) as refused:
        configs.clean(target, config)
    assert refused.value.field == field

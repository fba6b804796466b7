"""A local stand-in for the three platforms' receiver-decryption APIs: one real HTTP server.

    ordergraph sim decrypt --port 9100            # prints each platform's channel config

Paths as on the real gateways: ``POST /router/rest`` (Taobao TOP,
``taobao.top.oaid.decrypt``), ``POST /api/router`` (Pinduoduo,
``pdd.open.decrypt.batch``), ``POST /order/batchDecrypt`` (Douyin shop).
Each checks the app key, the token and the signature exactly as the platform
does and refuses in the platform's own error shape; it opens only
ciphertext it issued (``sealing``), for the order it was issued for.

It issues ciphertext too: :meth:`DecryptSimulator.seal` in-process, or
``POST /_sim/seal`` with ``{"platform", "order_id", "name", "phone",
"address"}``. Taobao OAIDs are remembered by the server that issued them
(an OAID is a handle, not a ciphertext); Pinduoduo and Douyin ciphertext
opens on any simulator with the same key.

Faults: ``GET/PUT /_sim/profile`` (``latency_ms``, ``error_rate``,
``expired``: every session refused as expired), or per request the query
parameters ``sim_latency_ms``, ``sim_error_rate``, ``sim_expired=1``.
``GET /_sim/calls`` counts API calls and ciphertexts per platform;
``POST /_sim/reset`` zeroes them.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters import wire
from adapters.channels.decryption import douyin, pinduoduo, sealing, taobao
from adapters.channels.platform_signing import (
    DOUYIN_SIGN_METHODS,
    TOP_SIGN_METHODS,
    douyin_sign,
    pdd_sign,
    same,
    top_sign,
)
from domain.inbound.normalized import PayloadError, SealedContact

PLATFORMS = (taobao.SOURCE, pinduoduo.SOURCE, douyin.SOURCE)
MAX_SKEW_SECONDS = 600


@dataclass(frozen=True, slots=True)
class SimApp:
    """The one app (and shop authorisation) a simulated platform knows."""

    app_key: str
    app_secret: str
    token: str


DEFAULT_APPS: dict[str, SimApp] = {
    taobao.SOURCE: SimApp("12345678", "sim-taobao-app-secret", "sim-taobao-session"),
    pinduoduo.SOURCE: SimApp("sim-pdd-client-id", "sim-pdd-client-secret", "sim-pdd-access-token"),
    douyin.SOURCE: SimApp("7000000000000000001", "sim-douyin-app-secret", "sim-douyin-access-token"),
}
_TOKEN_KEYS = {taobao.SOURCE: "session", pinduoduo.SOURCE: "access_token", douyin.SOURCE: "access_token"}


@dataclass(frozen=True, slots=True)
class Profile:
    """Injected faults: a delay before every answer, a share of transient errors, every session expired."""

    latency_ms: int = 0
    error_rate: float = 0.0
    expired: bool = False

    @classmethod
    def read(cls, data: Mapping[str, Any], base: Profile | None = None) -> Profile:
        """A profile from JSON or query values over ``base``; a bad value is a ``ValueError`` naming it."""
        profile = base or cls()
        changes: dict[str, Any] = {}
        if data.get("latency_ms") not in (None, ""):
            latency = int(str(data["latency_ms"]))
            if not 0 <= latency <= 60_000:
                raise ValueError("latency_ms must be between 0 and 60000")
            changes["latency_ms"] = latency
        if data.get("error_rate") not in (None, ""):
            rate = float(str(data["error_rate"]))
            if not 0.0 <= rate <= 1.0:
                raise ValueError("error_rate must be between 0 and 1")
            changes["error_rate"] = rate
        if data.get("expired") not in (None, ""):
            changes["expired"] = str(data["expired"]).lower() in {"1", "true", "yes"}
        return replace(profile, **changes)


def account_config(platform: str, base_url: str, apps: Mapping[str, SimApp] = DEFAULT_APPS, **extra: Any) -> dict[str, Any]:
    """The channel ``config["api"]`` that points ``platform``'s decryption at a simulator on ``base_url``."""
    app = apps[platform]
    return {"app_key": app.app_key, "app_secret": app.app_secret, _TOKEN_KEYS[platform]: app.token,
            "base_url": base_url, **extra}


@dataclass
class DecryptSimulator:
    """The simulator's state: credentials, sealing key, Taobao's OAID book, faults, call counts."""

    key: bytes = sealing.DEFAULT_KEY
    apps: Mapping[str, SimApp] = field(default_factory=lambda: dict(DEFAULT_APPS))
    profile: Profile = field(default_factory=Profile)
    seed: int | None = None
    calls: Counter = field(default_factory=Counter)
    ciphertexts: Counter = field(default_factory=Counter)
    oaids: dict[str, tuple[str, sealing.ClearContact]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)

    # -------------------------------------------------------------- issuing

    def seal(self, platform: str, external_id: str, name: str, phone: str, address: str) -> SealedContact:
        """Ciphertext (or an OAID) and platform masks for one order's receiver, as ``platform`` would send them."""
        if platform not in PLATFORMS:
            raise ValueError(f"platform is one of {', '.join(PLATFORMS)}")
        clear = sealing.ClearContact(name, phone, address)
        open_id = ""
        if platform == taobao.SOURCE:
            open_id = sealing.new_oaid()
            self.oaids[open_id] = (external_id, clear)
        return sealing.sealed_contact(platform, self.key, external_id, clear, open_id=open_id)

    def reset(self) -> None:
        self.calls.clear()
        self.ciphertexts.clear()

    # -------------------------------------------------------------- serving

    @property
    def app(self) -> Starlette:
        return Starlette(routes=[
            Route(taobao.PATH, self._api(taobao.SOURCE, self._taobao), methods=["POST"]),
            Route(pinduoduo.PATH, self._api(pinduoduo.SOURCE, self._pinduoduo), methods=["POST"]),
            Route(douyin.PATH, self._api(douyin.SOURCE, self._douyin), methods=["POST"]),
            Route("/_sim/seal", self._seal, methods=["POST"]),
            Route("/_sim/profile", self._profile, methods=["GET", "PUT"]),
            Route("/_sim/calls", self._calls, methods=["GET"]),
            Route("/_sim/reset", self._reset, methods=["POST"]),
            Route("/healthz", lambda _request: JSONResponse({"ok": True}), methods=["GET"]),
        ])

    def _api(self, platform: str, handler: Callable[[Request, Profile], Awaitable[dict[str, Any]]]
             ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            self.calls[platform] += 1
            try:
                profile = Profile.read({k[4:]: v for k, v in request.query_params.items() if k.startswith("sim_")},
                                       self.profile)
            except ValueError as error:
                return JSONResponse({"simulator_error": str(error)}, status_code=400)
            if profile.latency_ms:
                await asyncio.sleep(profile.latency_ms / 1000)
            return JSONResponse(await handler(request, profile))

        return endpoint

    def _transient(self, profile: Profile) -> bool:
        return profile.error_rate > 0 and self.random.random() < profile.error_rate

    # -------------------------------------------------------------- Taobao TOP

    async def _taobao(self, request: Request, profile: Profile) -> dict[str, Any]:
        params = await _params(request)
        app = self.apps[taobao.SOURCE]

        def error(code: int, msg: str, sub_code: str = "", sub_msg: str = "") -> dict[str, Any]:
            body: dict[str, Any] = {"code": code, "msg": msg, "request_id": _request_id(self.random)}
            if sub_code:
                body.update(sub_code=sub_code, sub_msg=sub_msg or msg)
            return {"error_response": body}

        if params.get("method") != taobao.METHOD:
            return error(22, "Invalid method")
        if not params.get("app_key"):
            return error(28, "Missing app key")
        if params["app_key"] != app.app_key:
            return error(29, "Invalid app Key")
        sign_method = params.get("sign_method", "md5")
        if sign_method not in TOP_SIGN_METHODS:
            return error(41, "Invalid arguments:sign_method", "isv.invalid-parameter", "sign_method")
        if not same(top_sign(params, app.app_secret, sign_method), params.get("sign", "").upper()):
            return error(25, "Invalid signature")
        if not params.get("session"):
            return error(26, "Missing session")
        if profile.expired or params["session"] != app.token:
            return error(27, "Invalid session", "invalid-sessionkey", "SessionKey非法")
        if self._transient(profile):
            return error(15, "Remote service error", "isp.top-remote-connection-timeout", "simulated transient fault")
        try:
            queries = json.loads(params.get("query_list") or "")
        except ValueError:
            return error(41, "Invalid arguments:query_list", "isv.invalid-parameter", "query_list is not JSON")
        if not isinstance(queries, list) or not queries or not all(isinstance(q, dict) for q in queries):
            return error(40, "Missing required arguments:query_list")
        if len(queries) > taobao.MAX_PER_CALL:
            return error(41, "Invalid arguments:query_list", "isv.invalid-parameter",
                         f"at most {taobao.MAX_PER_CALL} queries per call")
        self.ciphertexts[taobao.SOURCE] += len(queries)
        receivers = []
        for query in queries:
            tid, oaid = str(query.get("tid", "")), str(query.get("oaid", ""))
            known = self.oaids.get(oaid)
            if known is None:
                continue
            issued_tid, clear = known
            matched = issued_tid == tid
            receivers.append({
                "tid": tid, "oaid": oaid, "matched": matched, "privacy_protection": False,
                "name": clear.name if matched else "", "mobile": clear.phone if matched else "", "phone": "",
                "address_detail": clear.address if matched else "", "country": "中国",
            })
        return {"top_oaid_decrypt_response": {"receiver_list": {"receiver": receivers},
                                              "request_id": _request_id(self.random)}}

    # -------------------------------------------------------------- Pinduoduo

    async def _pinduoduo(self, request: Request, profile: Profile) -> dict[str, Any]:
        params = await _params(request)
        app = self.apps[pinduoduo.SOURCE]

        def error(code: int, msg: str) -> dict[str, Any]:
            return {"error_response": {"error_code": code, "error_msg": msg, "sub_code": str(code), "sub_msg": msg,
                                       "request_id": _request_id(self.random)}}

        if params.get("client_id") != app.app_key:
            return error(10016, "client下线或者clientId不正确")
        if params.get("type") != pinduoduo.TYPE:
            return error(10017, "type不正确")
        if not same(pdd_sign(params, app.app_secret), params.get("sign", "").upper()):
            return error(20004, "签名sign校验失败")
        if not _fresh(params.get("timestamp", "")):
            return error(10001, "公共参数错误:timestamp")
        if profile.expired:
            return error(10019, "access_token已过期")
        if params.get("access_token") != app.token:
            return error(20032, "access_token或client_id错误")
        if self._transient(profile):
            return error(52101, "当前接口被限流，请稍后重试")
        try:
            items = json.loads(params.get("data_list") or "")
        except ValueError:
            return error(21001, "请求参数错误")
        if not isinstance(items, list) or not items or not all(isinstance(item, dict) for item in items):
            return error(21002, "请求参数不能为空")
        if len(items) > pinduoduo.MAX_ITEMS_PER_CALL:
            return error(21001, "请求参数错误")
        self.ciphertexts[pinduoduo.SOURCE] += len(items)
        answers = []
        for item in items:
            tag, cipher = str(item.get("data_tag", "")), str(item.get("encrypted_data", ""))
            opened = self._open(tag, cipher)
            answer = {"data_tag": tag, "encrypted_data": cipher, "virtual_number_type": 0,
                      "virtual_identify_number": ""}
            if opened is None:
                answer.update(error_code=1, error_msg="密文无法解密或与data_tag不匹配", decrypted_data="", data_type=0)
            else:
                kind, clear = opened
                answer.update(error_code=0, error_msg="", decrypted_data=clear, data_type=sealing.PDD_DATA_TYPES[kind])
            answers.append(answer)
        return {"open_decrypt_batch_response": {"data_decrypt_list": answers}}

    # -------------------------------------------------------------- Douyin

    async def _douyin(self, request: Request, profile: Profile) -> dict[str, Any]:
        query = {k: v for k, v in request.query_params.items() if not k.startswith("sim_")}
        body = (await request.body()).decode("utf-8", errors="replace")
        param_json = query.get("param_json") or body
        app = self.apps[douyin.SOURCE]

        def envelope(code: int, msg: str, sub_code: str = "", sub_msg: str = "", data: Any = None) -> dict[str, Any]:
            return {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg,
                    "data": data if data is not None else {}, "log_id": _request_id(self.random)}

        if not query.get("app_key"):
            return envelope(40001, "缺少必选参数（平台校验）", "isv.app-id-missing", "认证失败，app_key不存在")
        if query.get("method") != douyin.METHOD:
            return envelope(70000, "接口服务已下线", "isp.api-service-off", "API不存在或API已下线")
        sign_method = query.get("sign_method", "md5")
        if sign_method not in DOUYIN_SIGN_METHODS or query["app_key"] != app.app_key:
            return envelope(40003, "非法的参数（平台校验）", "isv.signature-invalid", "签名校验失败")
        expected = douyin_sign(app_key=app.app_key, app_secret=app.app_secret, method=douyin.METHOD,
                               param_json=param_json, timestamp=query.get("timestamp", ""), v=query.get("v", ""),
                               sign_method=sign_method)
        if not same(expected, query.get("sign", "").lower()):
            return envelope(40003, "非法的参数（平台校验）", "isv.signature-invalid", "签名校验失败")
        if not _fresh(query.get("timestamp", "")):
            return envelope(40003, "非法的参数（平台校验）", "isv.timestamp-invalid", "时间戳不合法")
        if not query.get("access_token"):
            return envelope(40001, "缺少必选参数（平台校验）", "isv.access-token-missing", "认证失败，access_token不能为空")
        if profile.expired:
            return envelope(40003, "非法的参数（平台校验）", "isv.access-token-expired", "access_token已过期")
        if query["access_token"] != app.token:
            return envelope(40003, "非法的参数（平台校验）", "isv.access-token-no-existed",
                            "access_token不存在，请使用最新的access_token访问")
        if self._transient(profile):
            return envelope(20000, "服务不可用", "dop.service-error", "内部错误，请反馈客服或答疑群")
        try:
            params = wire.load_json(param_json)
            infos = params["cipher_infos"] if isinstance(params, dict) else None
        except (PayloadError, KeyError):
            infos = None
        if not isinstance(infos, list) or not infos or not all(isinstance(info, dict) for info in infos):
            return envelope(40003, "非法的参数（平台校验）", "isv.parameter-format-invalid", "业务参数json解析失败")
        if len(infos) > douyin.MAX_CIPHERS_PER_CALL:
            return envelope(40004, "非法的参数（业务校验）", "isv.parameter-invalid", "最大支持一次解密50条")
        self.ciphertexts[douyin.SOURCE] += len(infos)
        answers, failed = [], 0
        for info in infos:
            auth_id, cipher = str(info.get("auth_id", "")), str(info.get("cipher_text", ""))
            opened = self._open(auth_id, cipher)
            answer = {"auth_id": auth_id, "cipher_text": cipher, "is_virtual_tel": False, "phone_no_a": "",
                      "phone_no_b": "", "expire_time": 0}
            if opened is None:
                failed += 1
                answer.update(decrypt_text="", err_no=1, err_msg="密文与订单号不匹配", data_type=0)
            else:
                kind, clear = opened
                answer.update(decrypt_text=clear, err_no=0, err_msg="", data_type=sealing.DOUYIN_DATA_TYPES[kind])
            answers.append(answer)
        data = {"decrypt_infos": answers, "custom_err": {"err_code": 0, "err_msg": ""}}
        if failed:
            return envelope(50002, "业务处理失败", douyin.PARTIAL, "300008:解密接口存在部分失败", data)
        return envelope(douyin.SUCCESS, "success", data=data)

    def _open(self, tag: str, cipher: str) -> tuple[str, str] | None:
        token = sealing.unwrap(cipher)
        return sealing.open_text(self.key, tag, token) if token else None

    # -------------------------------------------------------------- control

    async def _seal(self, request: Request) -> Response:
        try:
            data = wire.load_json(await request.body())
            if not isinstance(data, dict):
                raise ValueError("expected a JSON object")
            fields = {name: data.get(name) for name in ("platform", "order_id", "name", "phone", "address")}
            for name, value in fields.items():
                if not isinstance(value, str) or not value.strip():
                    raise ValueError(f"{name} is required text")
            sealed = self.seal(fields["platform"], fields["order_id"], fields["name"], fields["phone"], fields["address"])
        except (PayloadError, ValueError) as error:
            return JSONResponse({"error": str(error)}, status_code=422)
        return JSONResponse(asdict(sealed))

    async def _profile(self, request: Request) -> Response:
        if request.method == "PUT":
            try:
                data = wire.load_json(await request.body())
                if not isinstance(data, dict):
                    raise ValueError("expected a JSON object")
                self.profile = Profile.read(data, Profile())
            except (PayloadError, ValueError) as error:
                return JSONResponse({"error": str(error)}, status_code=422)
        return JSONResponse(asdict(self.profile))

    async def _calls(self, _request: Request) -> Response:
        return JSONResponse({"calls": dict(self.calls), "ciphertexts": dict(self.ciphertexts)})

    async def _reset(self, _request: Request) -> Response:
        self.reset()
        return JSONResponse({"calls": {}, "ciphertexts": {}})


async def _params(request: Request) -> dict[str, str]:
    """Query string and form body together (SDKs put system parameters in one, business in the other)."""
    params = {k: v for k, v in request.query_params.items() if not k.startswith("sim_")}
    try:
        params.update(wire.parse_form(await request.body()))
    except PayloadError:
        pass
    return params


def _fresh(timestamp: str) -> bool:
    """A unix-seconds timestamp within the platforms' 10 minutes of the simulator's clock."""
    if not timestamp.isdigit():
        return False
    return abs(datetime.now(UTC).timestamp() - int(timestamp)) <= MAX_SKEW_SECONDS


def _request_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(48):012x}"


def run(host: str, port: int, simulator: DecryptSimulator | None = None) -> None:
    """Serve the simulator with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run((simulator or DecryptSimulator()).app, host=host, port=port, log_level="warning")

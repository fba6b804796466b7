"""Is a webhook target public? Checked at registration (``domain.webhooks.endpoints``) and again at every send.

A name that resolved to a public address when the endpoint was registered can
point at ``10.0.0.5`` or ``169.254.169.254`` tomorrow. So, when private
targets are not allowed, the sender resolves the host itself, refuses if any
address is not global, and connects to the address it checked (the URL's host
goes in the ``Host`` header and in TLS's SNI, so certificates are still
verified against the name):

    url, headers, extensions = await pin("https://hooks.partner.example/og")
    await client.post(url, headers=headers, extensions=extensions, content=body)
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import httpx


class NotPublic(httpx.TransportError):
    """The target resolves to a loopback, private, link-local or otherwise non-global address."""


class Unresolvable(OSError):
    """The target's host name does not resolve (in time)."""


def non_public(address: str) -> bool:
    return not ipaddress.ip_address(address.split("%", 1)[0]).is_global


async def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` stands for: itself if it is one, else what the resolver says within 3 s."""
    try:
        ipaddress.ip_address(host)
        return [host]
    except ValueError:
        pass
    try:
        async with asyncio.timeout(3):
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError):
        raise Unresolvable(host) from None
    return [str(info[4][0]) for info in infos]


async def public_addresses(host: str, port: int) -> list[str]:
    """What ``host`` resolves to, if every address is public; else ``NotPublic`` saying why."""
    try:
        found = await resolve(host, port)
    except Unresolvable:
        raise NotPublic(f"cannot resolve {host}") from None
    if not found or any(non_public(address) for address in found):
        raise NotPublic(f"{host} resolves to a private or local address")
    return found


async def pin(url: str) -> tuple[httpx.URL, dict[str, str], dict[str, str]]:
    """``url`` aimed at a checked public address, with the Host header and SNI that keep the name; or ``NotPublic``."""
    target = httpx.URL(url)
    found = await public_addresses(target.host, target.port or (443 if target.scheme == "https" else 80))
    headers = {"host": target.netloc.decode("ascii")}
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    return target.copy_with(host=found[0]), headers, extensions

"""What every resolver gets: the caller and per-request DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.actor import Actor
from resolvers.loaders import Loaders


@dataclass
class Context:
    """Per request (HTTP) or per connection (WebSocket; make fresh ``Loaders`` per event there)."""

    actor: Actor | None
    request: Any = None
    response: Any = None
    bus: Any = None
    loaders: Loaders = field(default_factory=lambda: Loaders(0))
    connection_params: dict[str, Any] | None = None
    max_page_size: int = 100

    def __post_init__(self) -> None:
        if self.actor is not None:
            self.loaders = Loaders(self.actor.tenant_id)

    def __getitem__(self, key: str) -> Any:  # Strawberry's WebSocket handlers use mapping access
        return getattr(self, key)

    def __setitem__(self, key: str, value: Any) -> None:
        setattr(self, key, value)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)

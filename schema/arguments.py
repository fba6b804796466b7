"""Described argument types shared by many fields, so every paginated field documents its arguments alike.

    async def orders(self, info: Info, first: First = 20, after: After = None) -> OrderConnection: ...

The texts are ``schema.connections``' (``PAGE_ARGUMENT``, ``AFTER_ARGUMENT``), so both spellings read the same.
"""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema.connections import AFTER_ARGUMENT, PAGE_ARGUMENT

#: Page size of a forward-paginated field.
First = Annotated[int, strawberry.argument(description=PAGE_ARGUMENT)]
#: The cursor to continue from.
After = Annotated[str | None, strawberry.argument(description=AFTER_ARGUMENT)]

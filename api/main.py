"""Entry point for uvicorn: ``uvicorn --factory api.main:app_from_env``."""

from starlette.applications import Starlette

from api.app import create_app
from api.settings import Settings


def app_from_env() -> Starlette:
    return create_app(Settings.from_env())

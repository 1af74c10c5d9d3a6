"""Fixtures: a private RUNTIME_HOME, and the chat app on a scripted model whose notices are recorded."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from runtime.config import Settings
from runtime.model.base import Model
from runtime.tui.app import ChatApp
from runtime.tui.models import ModelFactory
from tests.fakes import ScriptedModel
from tests.tui.helpers import Notices, factory_for


@pytest.fixture
def settings(home) -> Settings:
    return Settings(home=home, action_timeout_s=30)


@pytest.fixture
def notices() -> Notices:
    return Notices()


@pytest.fixture
def make_app(settings, notices) -> Callable[..., ChatApp]:
    """An app on a scripted model (or any factory), whose notices land in `notices`."""

    def make(scripted: Model | None = None, factory: ModelFactory | None = None, **kwargs) -> ChatApp:
        kwargs.setdefault("tools", {"boxes": False})  # tests of tools turn them on with /boxes or --box
        app = ChatApp(settings, factory or factory_for(scripted or ScriptedModel([])), **kwargs)
        show = app.notify

        def notify(message: str, *args, severity: str = "information", **more) -> None:
            notices.append((severity, message))
            show(message, *args, severity=severity, **more)

        app.notify = notify  # type: ignore[method-assign]
        return app

    return make

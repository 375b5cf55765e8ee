"""The four services as the stack starts them: module, settings, migrations."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from shared.settings import ServiceSettings

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ServiceSpec:
    name: str

    @property
    def module(self) -> str:
        return f"services.{self.name}"

    @property
    def env_prefix(self) -> str:
        return f"{self.name.upper()}_"

    @property
    def migrations(self) -> Path:
        package = importlib.import_module(f"{self.module}.migrations")
        return Path(package.__file__ or "").parent

    def settings(self) -> ServiceSettings:
        module = importlib.import_module(f"{self.module}.settings")
        settings: ServiceSettings = module.Settings()
        return settings

    def database_name(self) -> str:
        return make_url(self.settings().database_url).database or f"mla_{self.name}"


SERVICES = (
    ServiceSpec("intake"),
    ServiceSpec("routing"),
    ServiceSpec("tracking"),
    ServiceSpec("notify"),
)


def spec_of(name: str) -> ServiceSpec:
    """The service of that name."""
    (spec,) = [spec for spec in SERVICES if spec.name == name]
    return spec

"""What the deployment files are checked against: the services and the settings they read.

The names come from the code (each service's `Settings` class), never from a list kept by hand,
so that a setting added, renamed or removed in the code shows up in every deployment test.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]

# The four services and the prefix each reads its settings with (shared/settings.py).
PREFIXES = {
    "intake": "INTAKE_",
    "routing": "ROUTING_",
    "tracking": "TRACKING_",
    "notify": "NOTIFY_",
}
SERVICES = tuple(PREFIXES)
# Settings that have a default for a developer's laptop, but not one that works in a container.
REQUIRED_FOR_DEPLOYMENT = ("database_url", "kafka_bootstrap_servers", "host", "port")


def import_project(module_name: str) -> ModuleType:
    """Imports a project module, also when the project is not installed (run from a checkout)."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is None or error.name.split(".")[0] not in {"shared", "services"}:
            raise
        if str(REPO_ROOT) in sys.path:
            raise
        sys.path.append(str(REPO_ROOT))
        return importlib.import_module(module_name)


def settings_class(service: str) -> type[Any]:
    """The class a service reads its settings with: its own `Settings` if it has one yet.

    Only a missing `services/<name>/settings.py` (or a missing service package) falls back to
    `shared.settings.ServiceSettings`; any other import error in the module is a real failure.
    """
    module_name = f"services.{service}.settings"
    try:
        module = import_project(module_name)
    except ModuleNotFoundError as error:
        missing = error.name or ""
        if not (module_name == missing or module_name.startswith(f"{missing}.")):
            raise
        settings: type[Any] = import_project("shared.settings").ServiceSettings
        return settings
    service_settings: type[Any] = module.Settings
    return service_settings


def env_names(service: str) -> dict[str, str]:
    """Field name -> the environment variable that sets it, for the service's prefix."""
    names = {}
    for field_name, field in settings_class(service).model_fields.items():
        alias = field.validation_alias if isinstance(field.validation_alias, str) else None
        names[field_name] = (alias or f"{PREFIXES[service]}{field_name}").upper()
    return names


def default(service: str, field_name: str) -> Any:
    """The default value of one setting of a service."""
    return settings_class(service).model_fields[field_name].default


def reads_personal_data(service: str) -> bool:
    """Whether the service seals or shows personal data: its settings name a key vault and a
    master key (shared/personal_data/settings.py)."""
    fields = settings_class(service).model_fields
    return {"vault_database_url", "personal_data_key_file"} <= set(fields)


def personal_data_services() -> tuple[str, ...]:
    return tuple(service for service in SERVICES if reads_personal_data(service))


def vault_database() -> str:
    """The key vault's database name, the one `devstack migrate` creates by default."""
    name: str = import_project("shared.personal_data.settings").VAULT_DATABASE
    return name


# `devstack migrate` creates and migrates the key vault at the vault URL of the first service
# it knows, intake (devstack/stack.py, migrate_all): the migration step sets that one.
VAULT_MIGRATED_AT = "intake"


def lifecycle_topic() -> str:
    topic: str = import_project("shared.settings").LIFECYCLE_TOPIC
    return topic

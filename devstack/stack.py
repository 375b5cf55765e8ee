"""The stack's commands: bring the system up on one machine, and the test bed."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from devstack.access import ensure_token_key, example_tokens
from devstack.broker import EmbeddedBroker, free_port
from devstack.postgres import EmbeddedPostgres
from devstack.provision import create_database, create_topics, migrate
from devstack.services import ROOT, SERVICES, spec_of
from devstack.settings import StackSettings
from shared.consumer_rewind import GroupInUseError, rewind_group
from shared.dead_letter_replay import publish_again, read_dead_letters
from shared.kafka import TRANSIENT_KAFKA_ERRORS
from shared.personal_data.master_key import ensure_master_key
from shared.personal_data.postgres_vault import MIGRATIONS as VAULT_MIGRATIONS
from shared.request.model import EXAMPLE_REQUEST
from shared.settings import ServiceSettings


def say(message: str) -> None:
    print(message, flush=True)


def migrate_all() -> int:
    """Create each service's database when missing and apply its migrations."""
    for spec in SERVICES:
        url = spec.settings().database_url
        if asyncio.run(create_database(url, spec.database_name())):
            say(f"created database {spec.database_name()}")
        migrate(url, spec.migrations)
        say(f"migrated {spec.name}")
    # The key vault, shared by the services that seal personal data (intake's settings say
    # where it is: intake makes and destroys the keys).
    vault_url: str = SERVICES[0].settings().vault_url  # type: ignore[attr-defined]
    vault_name = make_url(vault_url).database or "mla_vault"
    if asyncio.run(create_database(vault_url, vault_name)):
        say(f"created database {vault_name}")
    migrate(vault_url, VAULT_MIGRATIONS)
    say("migrated the key vault")
    return 0


def rewind_consumer_command(service: str, to: datetime, group: str | None) -> int:
    """`rewind-consumer`: with the service's own settings (its broker, topic, group)."""
    settings = spec_of(service).settings()
    group = group or settings.consumer_group_of(service)
    try:
        rewound = asyncio.run(rewind_group(settings, group, to))
    except (GroupInUseError, ValueError) as exc:
        say(f"not rewound: {exc}")
        return 2
    except TRANSIENT_KAFKA_ERRORS as exc:
        say(f"not rewound: {_unreachable(settings, exc)}")
        return 2
    for partition in rewound:
        if partition.committed is None:
            say(f"  partition {partition.partition:>3}: never committed, left alone")
        else:
            say(
                f"  partition {partition.partition:>3}: {partition.committed} -> "
                f"{partition.offset} ({partition.again} to read again)"
            )
    total = sum(partition.again for partition in rewound)
    say(f"{group} rewound to {to.isoformat()}: {total} messages to read again")
    return 0


def dead_letters_command(
    service: str,
    *,
    group: str | None,
    all_groups: bool,
    offsets: list[int] | None,
    replay: bool,
) -> int:
    """`dead-letters`: with the service's own settings (its broker, topics, group)."""
    settings = spec_of(service).settings()
    whose = group or settings.consumer_group_of(service)
    try:
        letters = asyncio.run(read_dead_letters(settings, None if all_groups else whose))
    except TRANSIENT_KAFKA_ERRORS as exc:
        say(f"not read: {_unreachable(settings, exc)}")
        return 2
    if offsets:
        letters = [letter for letter in letters if letter.offset in offsets]
    for letter in letters:
        kind = letter.event_type or "(not a CloudEvent)"
        say(f"  {letter.offset:>6}  {letter.failed_at}  {letter.group}  {letter.original}  {kind}")
        say(f"          {letter.error}: {letter.reason}")
    say(f"{len(letters)} dead letters on {settings.dlq_topic}")
    if replay and letters:
        try:
            published = asyncio.run(publish_again(settings, letters, f"{whose}-replay"))
        except TRANSIENT_KAFKA_ERRORS as exc:
            say(f"not published again: {_unreachable(settings, exc)}")
            return 2
        say(f"published again onto {settings.topic}: {published}")
    return 0


def _unreachable(settings: ServiceSettings, exc: BaseException) -> str:
    return (
        f"the broker at {settings.kafka_bootstrap_servers} ({settings.kafka_security_protocol}) "
        f"did not answer: {type(exc).__name__} (are the service's settings in the environment?)"
    )


def create_topics_command(bootstrap_servers: str, partitions: int) -> int:
    created = create_topics(bootstrap_servers, partitions)
    say(f"topics created: {', '.join(created) or 'none (all exist)'}")
    return 0


def run() -> int:
    """Everything up; Ctrl-C (or SIGTERM) stops every process started here, in order."""
    settings = StackSettings()
    settings.dir.mkdir(parents=True, exist_ok=True)
    postgres = broker = None
    services: list[subprocess.Popen[bytes]] = []
    stop_requested = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        if settings.embedded_postgres:
            postgres = EmbeddedPostgres(settings.dir / "postgres" / "data", settings.postgres_port)
            say(
                f"starting PostgreSQL on 127.0.0.1:{settings.postgres_port} "
                f"(data in {postgres.data_dir})"
            )
            postgres.start()
            for spec in SERVICES:
                os.environ.setdefault(
                    f"{spec.env_prefix}DATABASE_URL", postgres.url(f"mla_{spec.name}")
                )
        if settings.embedded_kafka:
            broker = EmbeddedBroker(settings.kafka_port, log_file=settings.dir / "broker.log")
            say(f"starting the broker on {broker.bootstrap_servers} (memory only)")
            broker.start()
            for spec in SERVICES:
                os.environ.setdefault(
                    f"{spec.env_prefix}KAFKA_BOOTSTRAP_SERVERS", broker.bootstrap_servers
                )
        _ensure_personal_data_key(settings.dir)
        token_key = ensure_token_key(settings.dir)
        migrate_all()
        bootstrap = SERVICES[0].settings().kafka_bootstrap_servers
        created = create_topics(bootstrap, settings.partitions)
        say(
            f"topic mla.request-lifecycle ready ({settings.partitions} partitions)"
            + (" (created)" if created else "")
        )
        services = [_start_service(spec.module, settings.dir) for spec in SERVICES]
        _wait_ready(lambda: stop_requested)
        _print_welcome(example_tokens(token_key))
        while not stop_requested:
            for process in services:
                if process.poll() is not None:
                    say(f"a service exited with {process.returncode}; stopping everything")
                    stop_requested = True
            time.sleep(0.5)
    finally:
        say("stopping...")
        for process in services:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in services:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        if broker is not None:
            broker.stop()
        if postgres is not None:
            postgres.stop()
        say("stopped")
    return 0


def _ensure_personal_data_key(stack_dir: Path) -> None:
    """The master key of the personal data, made once beside the stack's data and kept
    with it: without it, the personal data of every stored request is unreadable."""
    path = stack_dir / "keys" / "personal-data.key"
    for prefix in ("INTAKE_", "TRACKING_"):
        os.environ.setdefault(f"{prefix}PERSONAL_DATA_KEY_FILE", str(path))
    if ensure_master_key(Path(os.environ["INTAKE_PERSONAL_DATA_KEY_FILE"])):
        say(f"made the personal-data master key {path} (keep it with .stack)")


def _start_service(module: str, stack_dir: Path) -> subprocess.Popen[bytes]:
    name = module.rsplit(".", 1)[-1]
    log = open(stack_dir / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the process
    say(f"starting {name} (log: {stack_dir / (name + '.log')})")
    # Own session: a Ctrl-C reaches us only, and we stop the services in order.
    return subprocess.Popen(
        [sys.executable, "-m", module],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        start_new_session=True,
    )


def _wait_ready(stopping: object, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    for spec in SERVICES:
        url = f"http://127.0.0.1:{spec.settings().port}/health/ready"
        while time.monotonic() < deadline and not stopping():  # type: ignore[operator]
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            time.sleep(0.3)


def _print_welcome(tokens: dict[str, str]) -> None:
    say("")
    say("The system is up:")
    for spec in SERVICES:
        port = spec.settings().port
        say(f"  {spec.name:<9} http://127.0.0.1:{port}   (API docs: http://127.0.0.1:{port}/docs)")
    say("")
    say("Tokens for 24 hours (README, Access; `.venv/bin/mla-token` issues others):")
    for name, token in tokens.items():
        say(f"  export MLA_{name.upper()}_TOKEN={token}")
    tracking = next(spec for spec in SERVICES if spec.name == "tracking").settings().port
    say("")
    say(f"The operators' dashboard: http://127.0.0.1:{tracking}/dashboard")
    say("  (sign in with the operator's or the auditor's token above)")
    body = json.dumps(EXAMPLE_REQUEST, ensure_ascii=False)
    intake = SERVICES[0].settings().port
    say("")
    say("Submit the example request as the example authority (si-dsp-ljubljana):")
    say(f"  curl -s -X POST http://127.0.0.1:{intake}/v1/requests \\")
    say('       -H "Authorization: Bearer $MLA_AUTHORITY_TOKEN" \\')
    say("       -H 'Content-Type: application/json' -H 'Idempotency-Key: example-1' \\")
    say(f"       -d {shlex.quote(body)}")
    say(
        'then follow it: curl -s -H "Authorization: Bearer $MLA_OPERATOR_TOKEN" '
        f"http://127.0.0.1:{SERVICES[2].settings().port}/v1/requests/<id>"
    )
    say("")
    say("Ctrl-C stops everything.")


def test(pytest_args: list[str]) -> int:
    """Run pytest against a PostgreSQL and a broker started once for the whole run. Their
    folder (the server's data, a quarter of a gigabyte, and both logs) is removed after a
    run that passed, and kept, with its place said, after one that did not."""
    postgres = broker = None
    workdir = Path(tempfile.mkdtemp(prefix="mla-test-"))
    env = dict(os.environ)
    code = 1
    try:
        if "MLA_TEST_POSTGRES_URL" not in env:
            postgres = EmbeddedPostgres(workdir / "pg" / "data", free_port(), fast_and_unsafe=True)
            postgres.start()
            env["MLA_TEST_POSTGRES_URL"] = postgres.url()
        if "MLA_TEST_KAFKA" not in env:
            broker = EmbeddedBroker(free_port(), log_file=workdir / "broker.log")
            broker.start()
            env["MLA_TEST_KAFKA"] = broker.bootstrap_servers
        say(f"test PostgreSQL: {make_url(env['MLA_TEST_POSTGRES_URL']).render_as_string()}")
        say(f"test broker: {env['MLA_TEST_KAFKA']}")
        code = subprocess.call([sys.executable, "-m", "pytest", *pytest_args], env=env, cwd=ROOT)
        return code
    finally:
        if broker is not None:
            broker.stop()
        if postgres is not None:
            postgres.stop()
        if code == 0:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            say(f"the test PostgreSQL's and broker's logs are kept in {workdir}")

"""`python -m devstack run|migrate|create-topics|rewind-consumer|dead-letters|test`.

run            the whole system on this machine: embedded PostgreSQL and broker, databases,
               topic, migrations, the four services; Ctrl-C stops everything it started
migrate        apply every service's migrations to the databases its settings name
create-topics  create the lifecycle topic and its dead-letter topic
rewind-consumer
               move a service's consumer group back to a moment, after its database was
               restored from a backup taken then (every instance of it stopped first)
dead-letters   list what a service put on the dead-letter topic, and why; with --replay,
               publish it again once the cause is fixed
test           start a throw-away PostgreSQL and broker (unless MLA_TEST_POSTGRES_URL /
               MLA_TEST_KAFKA name running ones) and run pytest against them
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime

from devstack import stack
from devstack.services import SERVICES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devstack",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the whole system on this machine")
    commands.add_parser("migrate", help="apply every service's migrations")
    topics = commands.add_parser("create-topics", help="create the lifecycle and DLQ topics")
    topics.add_argument(
        "--bootstrap-servers",
        default=os.environ.get("MLA_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
    )
    topics.add_argument("--partitions", type=int, default=12)
    rewind = commands.add_parser(
        "rewind-consumer",
        help="move a service's consumer group back to a moment (its database restored)",
    )
    rewind.add_argument("service", choices=[spec.name for spec in SERVICES])
    rewind.add_argument(
        "--to",
        required=True,
        type=datetime.fromisoformat,
        help="ISO 8601 with its time zone: a moment before the backup was taken, with a "
        "margin for how far the service was behind (re-reading more costs only time)",
    )
    rewind.add_argument("--group", help="the consumer group (default: the service's own)")
    dead = commands.add_parser(
        "dead-letters", help="list a service's dead letters; --replay publishes them again"
    )
    dead.add_argument("service", choices=[spec.name for spec in SERVICES])
    dead.add_argument("--group", help="the consumer group (default: the service's own)")
    dead.add_argument(
        "--all-groups", action="store_true", help="every group's, not only the service's"
    )
    dead.add_argument(
        "--offset",
        type=int,
        action="append",
        help="only the dead letter at this offset of the dead-letter topic (repeatable)",
    )
    dead.add_argument(
        "--replay",
        action="store_true",
        help="publish them again onto the lifecycle topic (the cause fixed first)",
    )
    test = commands.add_parser("test", help="run the test suite on a throw-away stack")
    test.add_argument("pytest_args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)

    if args.command == "run":
        return stack.run()
    if args.command == "migrate":
        return stack.migrate_all()
    if args.command == "create-topics":
        return stack.create_topics_command(args.bootstrap_servers, args.partitions)
    if args.command == "rewind-consumer":
        return stack.rewind_consumer_command(args.service, args.to, args.group)
    if args.command == "dead-letters":
        return stack.dead_letters_command(
            args.service,
            group=args.group,
            all_groups=args.all_groups,
            offsets=args.offset,
            replay=args.replay,
        )
    return stack.test([a for a in args.pytest_args if a != "--"])


if __name__ == "__main__":
    sys.exit(main())

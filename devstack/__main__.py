"""`python -m devstack run|migrate|create-topics|test`.

run            the whole system on this machine: embedded PostgreSQL and broker, databases,
               topic, migrations, the four services; Ctrl-C stops everything it started
migrate        apply every service's migrations to the databases its settings name
create-topics  create the lifecycle topic and its dead-letter topic
test           start a throw-away PostgreSQL and broker (unless MLA_TEST_POSTGRES_URL /
               MLA_TEST_KAFKA name running ones) and run pytest against them
"""

from __future__ import annotations

import argparse
import os
import sys

from devstack import stack


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
    test = commands.add_parser("test", help="run the test suite on a throw-away stack")
    test.add_argument("pytest_args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)

    if args.command == "run":
        return stack.run()
    if args.command == "migrate":
        return stack.migrate_all()
    if args.command == "create-topics":
        return stack.create_topics_command(args.bootstrap_servers, args.partitions)
    return stack.test([a for a in args.pytest_args if a != "--"])


if __name__ == "__main__":
    sys.exit(main())

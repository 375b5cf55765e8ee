"""The personal-data master key, for an operator: make one, or name the one a file holds.

    python -m shared.personal_data create-master-key PATH   # 32 random bytes, base64, 0600
    python -m shared.personal_data master-key-id PATH       # its id (kek_id), never the key

`make run` makes the key of one machine itself. Elsewhere (compose, a cluster) the operator
makes it once with this command and hands it to intake and tracking as a secret
(deploy/README.md). An existing file is never overwritten: a new master key would leave every
data key in the vault unreadable, which reads as if every request's personal data had been
erased. The id is what the vault stores beside each wrapped data key, so comparing it with
the vault tells whether a secret holds the right key.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from shared.personal_data.master_key import MasterKey, MasterKeyError, ensure_master_key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shared.personal_data",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser(
        "create-master-key", help="write a new master key file (refused when PATH exists)"
    )
    create.add_argument("path", type=Path)
    show = commands.add_parser("master-key-id", help="print the id of the key PATH holds")
    show.add_argument("path", type=Path)
    args = parser.parse_args(argv)

    path: Path = args.path
    if args.command == "create-master-key":
        try:
            # The file is opened exclusively: a dangling symlink, or a file made meanwhile,
            # is refused as well, never written through.
            made = ensure_master_key(path)
        except FileExistsError:
            made = False
        if not made:
            print(f"{parser.prog}: {path} exists; not overwritten", file=sys.stderr)
            return 1
        print(f"made the personal-data master key {path} (id {MasterKey.load(path).kek_id})")
        return 0
    try:
        print(MasterKey.load(path).kek_id)
    except MasterKeyError as exc:
        print(f"{parser.prog}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

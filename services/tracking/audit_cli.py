"""mla-audit: the auditor's tool for tracking's archive.

`export` fetches the archive, its signed checkpoints and the public key from tracking;
everything else works OFFLINE on the exported file, with nothing from the services:
`verify` checks the hash chain and the checkpoints, `replay` folds every request again,
`show` tells one request's state and timeline as of any moment or position.

Exit codes: 0 all is well, 1 the archive failed verification (or the request is not in
it), 2 the command could not run (bad arguments, a missing file or an unreachable server).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import httpx

from services.tracking.audit_files import (
    ArchiveFile,
    AuditError,
    checkpoints_path,
    parse_checkpoints,
    progress,
    public_key_path,
    read_checkpoints,
    read_public_key,
)
from services.tracking.audit_report import print_replay, print_state, print_verification
from services.tracking.domain.archive import (
    ArchiveFormatError,
    key_id,
    load_public_key,
    verify,
)
from services.tracking.domain.history import replay, state_as_of


def main(argv: Sequence[str] | None = None) -> int:
    """Run one mla-audit command; the exit code (see the module docstring)."""
    args = _parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except AuditError as exc:
        print(f"mla-audit: {exc}", file=sys.stderr)
        return 2
    return code


def _verify(args: argparse.Namespace) -> int:
    path = Path(args.file)
    checkpoint_files = args.checkpoints or _existing(checkpoints_path(path))
    key_file = args.public_key or next(iter(_existing(public_key_path(path))), None)
    checkpoints = [c for file in checkpoint_files for c in read_checkpoints(Path(file))]
    public_key = read_public_key(Path(key_file)) if key_file else None
    if public_key is not None:
        print(f"public key {key_id(public_key)} from {key_file}: compare it with the key id")
        print("  tracking's operators published out of band; a key sent with the file proves")
        print("  nothing on its own")
    with ArchiveFile(path, progress("verify", path, quiet=args.quiet)) as archive:
        started = time.perf_counter()
        result = verify(archive, checkpoints, public_key, from_position=args.from_position)
        elapsed = time.perf_counter() - started
    print_verification(result, checkpoints, archive.garbled, elapsed=elapsed)
    return 0 if result.ok and archive.garbled is None else 1


def _replay(args: argparse.Namespace) -> int:
    path = Path(args.file)
    with ArchiveFile(path, progress("replay", path, quiet=args.quiet), strict=True) as archive:
        outcome = replay(archive, at=args.as_of, position=args.until_position)
    print_replay(outcome, as_json=args.json, limit=_limit(args))
    return 0


def _show(args: argparse.Namespace) -> int:
    path = Path(args.file)
    with ArchiveFile(path, progress("show", path, quiet=True), strict=True) as archive:
        view, timeline = state_as_of(
            archive, args.request_id, at=args.as_of, position=args.until_position
        )
    if view is None:
        print(f"request {args.request_id} has no event in {path} {_limit(args)}")
        return 1
    print_state(view, timeline, limit=_limit(args))
    return 0


def _export(args: argparse.Namespace) -> int:
    out = Path(args.out)
    try:
        with httpx.Client(
            base_url=args.url,
            timeout=httpx.Timeout(30.0, read=600.0),
            headers={"Authorization": f"Bearer {args.token}"} if args.token else None,
        ) as client:
            # Checkpoints before entries: each one fetched then covers only entries that the
            # export, made afterwards, includes.
            checkpoints = _fetch(client, "/v1/audit/checkpoints")
            parse_checkpoints(checkpoints, f"{args.url}/v1/audit/checkpoints")
            pem = _fetch(client, "/v1/audit/public-key")
            public_key = load_public_key(pem)
            count = _download(client, args.from_position, out, quiet=args.quiet)
        checkpoints_path(out).write_bytes(checkpoints)
        public_key_path(out).write_bytes(pem)
    except (httpx.HTTPError, ArchiveFormatError, OSError) as exc:
        raise AuditError(f"cannot export from {args.url} to {out}: {exc}") from exc
    print(f"{count} entries from position {args.from_position} written to {out}")
    print(f"checkpoints written to {checkpoints_path(out)}")
    print(f"public key {key_id(public_key)} written to {public_key_path(out)}")
    return 0


def _fetch(client: httpx.Client, path: str) -> bytes:
    response = client.get(path)
    _raise_for_status(response)
    return response.content


def _download(client: httpx.Client, from_position: int, out: Path, *, quiet: bool) -> int:
    # Written under another name and renamed when complete: a broken download never
    # leaves a file that looks like a whole export.
    partial = out.with_name(out.name + ".part")
    count = 0
    params = {"from_position": from_position}
    try:
        with client.stream("GET", "/v1/audit/events", params=params) as response:
            _raise_for_status(response)
            with partial.open("wb") as file, progress("export", quiet=quiet) as bar:
                for chunk in response.iter_bytes():
                    file.write(chunk)
                    lines = chunk.count(b"\n")
                    count += lines
                    bar.update(lines)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(out)
    return count


def _raise_for_status(response: httpx.Response) -> None:
    if response.is_error:
        text = response.read().decode(errors="replace")[:300]
        raise AuditError(f"{response.request.url} answered {response.status_code}: {text}")


def _limit(args: argparse.Namespace) -> str:
    if args.as_of is not None:
        return f"as of {args.as_of.isoformat()}"
    if args.until_position is not None:
        return f"as of position {args.until_position}"
    return "as of the end of the archive"


def _existing(path: Path) -> list[str]:
    return [str(path)] if path.exists() else []


def _moment(text: str) -> datetime:
    """An ISO 8601 moment; without a time zone it is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 moment: {text!r}") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _position(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a position counts from 1, not {text!r}")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mla-audit", description=__doc__.split("\n\n")[1])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    exporting = commands.add_parser("export", help="fetch the archive from tracking")
    exporting.add_argument("--url", default="http://127.0.0.1:8003", help="tracking's base URL")
    exporting.add_argument("--from-position", type=_position, default=1)
    exporting.add_argument(
        "--token",
        default=os.environ.get("MLA_TOKEN"),
        help="an auditor's bearer token (default: $MLA_TOKEN; `make run` prints one)",
    )
    exporting.add_argument("--out", required=True, help="NDJSON file to write")
    exporting.set_defaults(run=_export)

    verifying = commands.add_parser("verify", help="check an exported file, offline")
    verifying.add_argument("file")
    verifying.add_argument(
        "--checkpoints",
        action="append",
        help="checkpoints JSON (repeatable: add the ones you kept from earlier exports); "
        "default FILE.checkpoints.json",
    )
    verifying.add_argument("--public-key", help="PEM public key; default FILE.pub.pem")
    verifying.add_argument(
        "--from-position",
        type=_position,
        default=1,
        help="the file is a partial export starting there (its first link is taken on trust)",
    )
    verifying.set_defaults(run=_verify)

    replaying = commands.add_parser("replay", help="fold every request from the file")
    replaying.add_argument("file")
    replaying.add_argument("--json", action="store_true", help="print the views as JSON lines")
    replaying.set_defaults(run=_replay)

    showing = commands.add_parser("show", help="one request's state and timeline")
    showing.add_argument("file")
    showing.add_argument("request_id")
    showing.set_defaults(run=_show)

    for command in (exporting, verifying, replaying, showing):
        command.add_argument("--quiet", action="store_true", help="no progress bar")
    for command in (replaying, showing):
        moment = command.add_mutually_exclusive_group()
        moment.add_argument("--as-of", type=_moment, help="ISO 8601 moment (default zone UTC)")
        moment.add_argument("--until-position", type=_position)
    return parser

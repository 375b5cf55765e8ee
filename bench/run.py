"""What every phase of a `python -m bench.system` run works with, in one place: the options,
the system under test, a client of each service it calls, the follower of what tracking
shows, the sampler of CPU and memory, and the report the phases fill in."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from bench.follow import Follower
from bench.http_client import Pool
from bench.intake_load import Submissions
from bench.resources import Sampler
from bench.system_report import SystemReport
from bench.system_stack import Stack


@dataclass
class Run:
    args: argparse.Namespace
    stack: Stack
    intake: Pool
    routing: Pool
    tracking: Pool
    notify: Pool
    operator: str  # a token of the department's operator
    submissions: Submissions
    follower: Follower
    sampler: Sampler
    report: SystemReport

"""``ordergraph --help`` lists every command with one line, and every command's own help describes it."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Iterator

from api.cli import build_parser


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str | None, argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, child in action.choices.items():
                yield (*path, name), helps.get(name), child
                yield from _commands(child, (*path, name))


def test_every_command_and_sub_command_has_a_one_line_description():
    found = list(_commands(build_parser()))
    assert len(found) > 30  # the walk reached the sub-CLIs (sim, poll, reconcile, lineage …)
    missing = [" ".join(path) for path, listed, parser in found
               if not (listed or "").strip() or "\n" in listed or not (parser.description or "").strip()]
    assert missing == [], f"commands without a one-line help= (shown by `ordergraph --help`): {missing}"
    for path, listed, parser in found:
        assert " ".join(listed.split()) in " ".join(parser.format_help().split()), path  # its own --help opens with it


def test_top_level_help_lists_every_command():
    text = subprocess.run([sys.executable, "-m", "api.cli", "--help"], capture_output=True, text=True, check=True).stdout
    listed = {line.split()[0] for line in text.splitlines() if line.startswith("    ") and line.split()}
    top = {path[0] for path, _, _ in _commands(build_parser()) if len(path) == 1}
    assert top <= listed, top - listed

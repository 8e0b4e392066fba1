"""``python -m statehouse.cli``: the original Statehouse Python CLI's commands, on this SDK.

Commands: ``health``, ``version``, ``get``, ``keys``, ``replay``, ``tail``, ``dump``, ``inspect``. Replayed operations
print in the documented one-line format (:mod:`statehouse.formatting`) with their real commit time.

Exit codes: 0 success; 1 an error or a key that does not exist (the message goes to stderr); 2 a usage error;
130 interrupted (Ctrl-C). Colour only when the output is a terminal and NO_COLOR is not set.

There is deliberately no ``statehousectl`` entry point: that name belongs to the Swift CLI.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import sys
from typing import Any, Callable, Deque, Dict, List, Optional, Sequence, TextIO

from .. import _operations as ops
from .._time import rfc3339
from ..client import Statehouse
from ..exceptions import StatehouseError
from ..formatting import format_ts, format_value_summary

__all__ = ["build_parser", "main", "default_address"]

DEFAULT_ADDRESS = "localhost:50051"
DEFAULT_NAMESPACE = "default"
# Variables naming the daemon's address, in order of precedence (after --address).
ADDRESS_VARIABLES = ("STATEHOUSE_ADDRESS", "STATEHOUSE_ADDR", "STATEHOUSE_URL")

_COLOURS = {"green": "32", "red": "31", "yellow": "33", "cyan": "36", "magenta": "35", "bold": "1", "dim": "2"}
_OP_COLOURS = {"WRITE": "green", "DEL": "red", "TOOL": "cyan", "NOTE": "yellow", "FINAL": "magenta"}
_OP_FIELD = re.compile(r"  (WRITE|DEL|TOOL|NOTE|FINAL)( *)  key=")


def default_address(environ: Optional[Dict[str, str]] = None) -> str:
    """The address used without ``--address``: $STATEHOUSE_ADDRESS, $STATEHOUSE_ADDR, $STATEHOUSE_URL (the first
    that is set and not blank), else ``localhost:50051``."""
    environ = dict(os.environ) if environ is None else environ
    for name in ADDRESS_VARIABLES:
        value = environ.get(name, "").strip()
        if value:
            return value
    return DEFAULT_ADDRESS


class _Output:
    """stdout and stderr, coloured only when the stream is a terminal and NO_COLOR is not set."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out = out
        self.err = err
        self._colour_out = self._wants_colour(out)
        self._colour_err = self._wants_colour(err)

    @staticmethod
    def _wants_colour(stream: TextIO) -> bool:
        try:
            # no-color.org: NO_COLOR set to any non-empty value turns colour off.
            return stream.isatty() and not os.environ.get("NO_COLOR")
        except (AttributeError, ValueError):
            return False

    @staticmethod
    def _paint(text: str, colours: Sequence[str]) -> str:
        codes = ";".join(_COLOURS[name] for name in colours)
        return f"\x1b[{codes}m{text}\x1b[0m"

    def line(self, text: str = "", *colours: str, flush: bool = False) -> None:
        if colours and self._colour_out:
            text = self._paint(text, colours)
        print(text, file=self.out, flush=flush)

    def error(self, text: str, *colours: str) -> None:
        if colours and self._colour_err:
            text = self._paint(text, colours)
        print(text, file=self.err, flush=True)

    def event_line(self, text: str, *, indent: str = "", flush: bool = False) -> None:
        """A replay line, its OP field coloured on a terminal."""
        if self._colour_out:
            match = _OP_FIELD.search(text)
            if match is not None:
                op = match.group(1)
                start, end = match.span(1)
                text = text[:start] + self._paint(op, [_OP_COLOURS[op]]) + text[end:]
        print(indent + text.replace("\n", "\n" + indent), file=self.out, flush=flush)


# ---- commands ----------------------------------------------------------------------------------------------------


def _names(parser: argparse.ArgumentParser, values: List[str], wanted: Sequence[str]) -> Dict[str, Optional[str]]:
    """Positional names with an optional leading NAMESPACE: ``AGENT KEY`` or ``NAMESPACE AGENT KEY``."""
    if len(values) == len(wanted):
        return {"namespace": None, **dict(zip(wanted, values))}
    if len(values) == len(wanted) + 1:
        return {"namespace": values[0], **dict(zip(wanted, values[1:]))}
    shape = " ".join(name.upper() for name in wanted)
    parser.error(f"expected {shape} or NAMESPACE {shape}, got {len(values)} argument(s)")
    raise AssertionError("unreachable")


def _namespace(args: argparse.Namespace, positional: Optional[str] = None) -> str:
    option = args.sub_namespace
    if positional is not None and option is not None and option != positional:
        args.parser.error(f"the namespace is given twice: {positional!r} and --namespace {option!r}")
    for candidate in (positional, option, args.global_namespace):
        if candidate is not None:
            return str(candidate)
    return DEFAULT_NAMESPACE


def cmd_health(client: Statehouse, args: argparse.Namespace, output: _Output) -> int:
    try:
        status = client.health()
    except StatehouseError as error:
        output.error(f"✗ Connection failed: {error}", "red")
        return 1
    if status == "ok":
        output.line("✓ Daemon is healthy", "green")
        return 0
    output.error(f"✗ Daemon returned: {status}", "yellow")
    return 1


def cmd_version(client: Statehouse, args: argparse.Namespace, output: _Output) -> int:
    version, git_sha = client.version()
    output.line(f"Version: {version}")
    output.line(f"Git SHA: {git_sha}")
    return 0


def cmd_get(client: Statehouse, args: argparse.Namespace, output: _Output) -> int:
    names = _names(args.parser, args.names, ("agent", "key"))
    namespace = _namespace(args, names["namespace"])
    agent, key = str(names["agent"]), str(names["key"])
    if args.at_version is not None:
        result = client.get_state_at_version(agent, key, args.at_version, namespace)
    else:
        result = client.get_state(agent, key, namespace)
    if not result:
        detail = f" (deleted at version {result.version})" if result.deleted else ""
        output.error(f"✗ Key not found: {key!r} of agent {agent!r} in namespace {namespace!r}{detail}", "yellow")
        return 1
    if args.json:
        document = {
            "namespace": namespace,
            "agent_id": agent,
            "key": key,
            "version": result.version,
            "commit_ts": result.commit_ts,
            "timestamp": rfc3339(result.committed_at),
            "value": result.value,
        }
        output.line(json.dumps(document, indent=2, ensure_ascii=False))
    elif args.pretty:
        output.line(f"Key:       {key}")
        output.line(f"Version:   {result.version}")
        output.line(f"Timestamp: {format_ts(result.committed_at)}")
        output.line()
        output.line(f"Value: {format_value_summary(result.value, max_len=200)}")
    else:
        output.line(f"Key:       {key}")
        output.line(f"Version:   {result.version}")
        output.line(f"Commit TS: {result.commit_ts}")
        output.line()
        output.line("Value:")
        output.line(json.dumps(result.value, indent=2, ensure_ascii=False))
    return 0


def cmd_keys(client: Statehouse, args: argparse.Namespace, output: _Output) -> int:
    names = _names(args.parser, args.names, ("agent",))
    namespace = _namespace(args, names["namespace"])
    agent = str(names["agent"])
    keys = client.list_keys(agent, namespace, prefix=args.prefix or "")
    if args.json:
        document = {"namespace": namespace, "agent_id": agent, "count": len(keys), "keys": keys}
        output.line(json.dumps(document, indent=2, ensure_ascii=False))
        return 0
    if not keys:
        suffix = f" with prefix {args.prefix!r}" if args.prefix else ""
        output.line(f"No keys found for agent '{agent}'{suffix}")
        return 0
    output.line(f"Keys for agent '{agent}' (namespace: {namespace}):")
    for key in keys:
        output.line(f"  - {key}")
    output.line()
    output.line(f"Total: {len(keys)}")
    return 0


def cmd_replay(client: Statehouse, args: argparse.Namespace, output: _Output) -> int:
    # `replay AGENT` (the original CLI) and `replay NAMESPACE AGENT` (the original's status document).
    names = _names(args.parser, args.names, ("agent",))
    namespace = _namespace(args, names["namespace"])
    args.agent = str(names["agent"])
    events = client.replay(
        args.agent, args.start_ts, args.end_ts, namespace, from_timestamp=args.from_ts, to_timestamp=args.to_ts
    )
    limit = args.limit or None
    count = 0
    try:
        for event in events:
            if args.json:
                # One event per line; to_dict() holds only JSON values.
                lines = [json.dumps(event.to_dict(), ensure_ascii=False, separators=(",", ":"))]
            else:
                lines = ops.pretty_lines(event, args.verbose)
            for line in lines:
                if limit is not None and count >= limit:
                    return 0
                if args.json:
                    output.line(line)
                else:
                    output.event_line(line)
                count += 1
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()  # ends the replay stream at once when --limit stopped early
    if count == 0:
        message = f"No events found for agent '{args.agent}'"
        if args.json:
            output.error(message)  # stdout stays valid JSON lines
        else:
            output.line(message)
    return 0


def cmd_tail(client: Statehouse, args: argparse.Namespace, output: _Output) -> int:
    namespace = _namespace(args)
    head = client.head(namespace).commit_ts
    recent: Deque[str] = collections.deque(maxlen=args.lines)
    found = False
    if head > 0:
        for event in client.replay(args.agent, end_ts=head, namespace=namespace):
            found = True
            recent.extend(ops.pretty_lines(event, False))
    for line in recent:
        output.event_line(line)
    if not args.follow:
        if not found:
            output.line(f"No events found for agent '{args.agent}'")
        return 0
    output.error("Waiting for new events (Ctrl+C to stop)...", "dim")
    output.out.flush()
    with client.watch(agent_id=args.agent, from_ts=head + 1, namespace=namespace) as stream:
        for event in stream:
            for line in ops.pretty_lines(event, False):
                output.event_line(line, flush=True)
    return 0


def cmd_dump(client: Statehouse, args: argparse.Namespace, output: _Output) -> int:
    namespace = _namespace(args)
    head = client.head(namespace).commit_ts
    # Every key read at one commit_ts, so that the dump is one consistent state.
    results = client.scan_prefix(args.agent, "", namespace, at=head) if head > 0 else []
    state = {
        str(result.key): {"value": result.value, "version": result.version, "commit_ts": result.commit_ts}
        for result in results
    }
    if args.format == "json":
        text = json.dumps(state, indent=2, ensure_ascii=False)
    else:
        lines = [f"State of agent '{args.agent}' (namespace: {namespace}) at commit_ts {head}: {len(state)} keys"]
        for key, entry in state.items():
            lines += [
                "",
                key,
                f"  Version:   {entry['version']}",
                f"  Commit TS: {entry['commit_ts']}",
                f"  Value:     {json.dumps(entry['value'], ensure_ascii=False, separators=(',', ':'))}",
            ]
        text = "\n".join(lines)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as file:
                file.write(text + "\n")
        except OSError as error:
            output.error(f"✗ Error: cannot write {args.output}: {error.strerror or error}", "red")
            return 1
        output.line(f"✓ State dumped to {args.output} ({len(state)} keys at commit_ts {head})", "green")
    else:
        output.line(text)
    return 0


def cmd_inspect(client: Statehouse, args: argparse.Namespace, output: _Output) -> int:
    namespace = _namespace(args)
    head = client.head(namespace).commit_ts
    keys = client.list_keys(args.agent, namespace)
    recent: Deque[Any] = collections.deque(maxlen=5)
    total = 0
    if head > 0:
        for event in client.replay(args.agent, end_ts=head, namespace=namespace):
            total += 1
            recent.append(event)
    output.line(f"=== Agent Inspect: {args.agent} ===", "cyan", "bold")
    output.line(f"Namespace: {namespace}")
    output.line()
    output.line(f"Total Keys: {len(keys)}")
    if keys:
        output.line()
        output.line("Keys (showing first 10):")
        for key in keys[:10]:
            output.line(f"  • {key}")
        if len(keys) > 10:
            output.line(f"  ... and {len(keys) - 10} more")
    output.line()
    output.line(f"Total Events: {total}")
    if recent:
        output.line()
        output.line(f"Recent Activity (last {len(recent)} events):")
        for event in recent:
            for line in ops.pretty_lines(event, False):
                output.event_line(line, indent="  ")
    return 0


# ---- the parser --------------------------------------------------------------------------------------------------


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, not {value}")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, not {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m statehouse.cli``."""
    parser = argparse.ArgumentParser(
        prog="python -m statehouse.cli",
        description="Inspect a Statehouse daemon: health, reads, replay, tail, dump.",
        epilog="Exit codes: 0 success, 1 error or key not found, 2 usage error, 130 interrupted.",
    )
    parser.add_argument(
        "--address",
        default=None,
        help="daemon address host:port (default: $STATEHOUSE_ADDRESS, $STATEHOUSE_ADDR, $STATEHOUSE_URL, "
        "else localhost:50051)",
    )
    parser.add_argument(
        "--namespace",
        dest="global_namespace",
        default=None,
        metavar="NS",
        help="namespace for every command (default: default)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(
        name: str, handler: Callable[..., int], help_text: str, usage: Optional[str] = None
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name, help=help_text, description=help_text, usage=usage and f"{parser.prog} {name} {usage}"
        )
        sub.set_defaults(handler=handler, parser=sub)
        sub.add_argument(
            "--namespace", dest="sub_namespace", default=None, metavar="NS", help="namespace (default: default)"
        )
        return sub

    command("health", cmd_health, "Check that the daemon serves.")
    command("version", cmd_version, "Show the daemon's version and git SHA.")

    get = command(
        "get",
        cmd_get,
        "Show one key's value.",
        "[-h] [--namespace NS] [--json-output] [--pretty] [--version N] [NAMESPACE] AGENT KEY",
    )
    get.add_argument("names", nargs="+", metavar="[NAMESPACE] AGENT KEY", help="the agent and key")
    get.add_argument("--json-output", "--json", dest="json", action="store_true", help="output as JSON")
    get.add_argument("--pretty", action="store_true", help="the commit time and a one-line value summary")
    get.add_argument(
        "--version", dest="at_version", type=_positive, default=None, metavar="N", help="show version N of the key"
    )

    keys = command(
        "keys", cmd_keys, "List an agent's keys.", "[-h] [--namespace NS] [--prefix PREFIX] [--json] [NAMESPACE] AGENT"
    )
    keys.add_argument("names", nargs="+", metavar="[NAMESPACE] AGENT", help="the agent")
    keys.add_argument("--prefix", default=None, help="only keys starting with this")
    keys.add_argument("--json", action="store_true", help="output as JSON")

    replay = command("replay", cmd_replay, "Replay an agent's history, one line per operation.")
    replay.add_argument("names", nargs="+", metavar="[NAMESPACE] AGENT", help="the agent")
    replay.add_argument("--start-ts", type=_count, default=None, metavar="N", help="first commit_ts (inclusive)")
    replay.add_argument("--end-ts", type=_count, default=None, metavar="N", help="last commit_ts (inclusive)")
    replay.add_argument("--from-ts", default=None, metavar="TIME", help="only commits at or after this RFC 3339 time")
    replay.add_argument("--to-ts", default=None, metavar="TIME", help="only commits at or before this RFC 3339 time")
    replay.add_argument(
        "--limit", type=_count, default=None, metavar="N", help="at most N lines (with --json: N events); 0: no limit"
    )
    replay.add_argument("--verbose", action="store_true", help="transaction, event and the whole value")
    replay.add_argument("--json", action="store_true", help="one JSON object per event (JSON lines)")

    tail = command("tail", cmd_tail, "Show an agent's last operations; -f follows new ones.")
    tail.add_argument("agent", metavar="AGENT")
    tail.add_argument("--lines", "-n", type=_count, default=10, metavar="N", help="how many (default: 10)")
    tail.add_argument("--follow", "-f", action="store_true", help="keep printing new commits until Ctrl-C")

    dump = command("dump", cmd_dump, "Dump an agent's live keys, read at one commit_ts.")
    dump.add_argument("agent", metavar="AGENT")
    dump.add_argument("--output", "-o", default=None, metavar="FILE", help="write to FILE instead of stdout")
    dump.add_argument("--format", choices=("json", "text"), default="json", help="json (default) or text")

    inspect = command("inspect", cmd_inspect, "Summarise an agent: keys, event count, recent activity.")
    inspect.add_argument("agent", metavar="AGENT")
    return parser


def _tolerant(stream: TextIO) -> None:
    """Lets a terminal without UTF-8 show ✓ and • as replacements instead of failing."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        try:
            reconfigure(errors="replace")
        except (ValueError, OSError):  # pragma: no cover - a stream that cannot be reconfigured
            pass


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the CLI and returns its exit code."""
    _tolerant(sys.stdout)
    _tolerant(sys.stderr)
    parser = build_parser()
    output = _Output(sys.stdout, sys.stderr)
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help(sys.stderr)
            return 2
        address = args.address or default_address()
        with Statehouse(url=address, namespace=DEFAULT_NAMESPACE) as client:
            code: int = args.handler(client, args, output)
        sys.stdout.flush()
        return code
    except StatehouseError as error:
        output.error(f"✗ Error: {error}", "red")
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`... | head`): stop quietly, without a second error when Python flushes stdout.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1

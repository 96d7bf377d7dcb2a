"""``matcher keys new --id ID --role ROLE [--volunteer-id V]``: a fresh API key.

Prints the token once (give it to the client; the server never stores it) and the
``[[keys]]`` entry with its SHA-256 to paste into ``MATCHER_API_KEYS_FILE``.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from matcher.access.keys import hash_token, key_from_fields, new_token, toml_entry
from matcher.access.roles import Role
from matcher.config import ConfigError


def add_keys_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``keys`` subcommand and its ``new`` action."""
    keys = sub.add_parser("keys", help="create API keys for access control")
    actions = keys.add_subparsers(dest="keys_action", required=True)
    new = actions.add_parser("new", help="print a new token and its keys-file entry")
    new.add_argument("--id", required=True, help="the key's id (shown in logs), unique")
    new.add_argument("--role", required=True, choices=[r.value for r in Role])
    new.add_argument("--volunteer-id", default="", help="the volunteer (volunteer_app only)")


def run_keys(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """Print a new token and its entry; 2 for an invalid id, role or volunteer id."""
    token = new_token()
    fields = {"id": args.id, "role": args.role, "sha256": hash_token(token)}
    if args.volunteer_id:
        fields["volunteer_id"] = args.volunteer_id
    try:
        key = key_from_fields(fields, "matcher keys new")
    except ConfigError as err:
        print(f"matcher keys: {err}", file=sys.stderr)
        return 2
    print(f"token (give it to the client; it is not shown again):\n{token}\n", file=out)
    print(f"entry for MATCHER_API_KEYS_FILE:\n{toml_entry(key)}", file=out, end="")
    return 0

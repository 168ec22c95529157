"""``mlgate security …``: offline recovery of the reserved security entries (docs/api.md#security).

The REST API may not change ``admin`` or the built-in role mappings, so whoever holds the data directory
or the database resets them here, with the same ``--data-dir`` / ``--store`` as ``serve``. A running
server picks the change up through the store's change feed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TextIO

from mlgate.config import Config
from mlgate.domain.security import PASSWORD_RULE, SecurityConfigError


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``mlgate security`` and its commands."""
    security = commands.add_parser("security", help="reset the admin password or the built-in role mappings")
    actions = security.add_subparsers(dest="security_command", required=True)
    reset = actions.add_parser(
        "reset-admin-password",
        help="set a new password for 'admin' (re-created if missing, with its admin backend role)",
    )
    reset.add_argument(
        "--password-stdin",
        dest="password_stdin",
        action="store_true",
        help="read the new password from the first line of stdin (default: generate one and print it)",
    )
    mappings = actions.add_parser(
        "reset-role-mappings", help="restore the built-in role mappings (all_access: backend role admin)"
    )
    for command in (reset, mappings):
        command.add_argument(
            "--data-dir", dest="data_dir", help="data directory (MLGATE_DATA_DIR, default ./data)"
        )
        command.add_argument(
            "--store",
            dest="store_url",
            help="postgresql://… of the cluster (MLGATE_STORE_URL, default SQLite)",
        )


def run(config: Config, args: argparse.Namespace, stdin: TextIO = sys.stdin) -> None:
    """Carry out ``mlgate security <command>``; exits with a message on failure."""
    from mlgate import bootstrap
    from mlgate.services.security_setup import generate_password

    try:
        if args.security_command == "reset-role-mappings":
            roles = asyncio.run(bootstrap.reset_role_mappings(config))
            print(f"mlgate: reset the role mappings of {', '.join(roles)} to their defaults")
            return
        generated = None if args.password_stdin else generate_password()
        password = generated or stdin.readline().rstrip("\r\n")
        created = asyncio.run(bootstrap.reset_admin_password(config, password))
    except SecurityConfigError as exc:
        sys.exit(f"mlgate: {exc.message}. The rule: {PASSWORD_RULE}")
    except OSError as exc:  # no data directory, database unreachable
        sys.exit(f"mlgate: {exc}")
    print(f"mlgate: {'created' if created else 'reset the password of'} user 'admin'")
    if generated is not None:
        # stdout, not a log: shown this once.
        print(f"        new password: {generated}")
    touched = bootstrap.write_admin_password_file(config, generated)
    if touched is not None:
        print(f"        {'updated' if generated else 'removed the outdated'} {touched}")

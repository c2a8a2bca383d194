"""`childguard users ...` and `childguard purge`: the operator commands of the oversight store, kept
apart from the decision CLI because they open the database and read passwords."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import IO, Any

from .errors import InvalidInputError


def add_parsers(sub: Any) -> None:
    users = sub.add_parser("users", help="moderator accounts of the oversight console")
    verbs = users.add_subparsers(dest="verb", required=True)
    add = verbs.add_parser("add", help="create a moderator or admin (password asked twice, or --password-stdin)")
    add.add_argument("username")
    add.add_argument("--role", choices=("moderator", "admin"), default="moderator")
    add.add_argument("--password-stdin", action="store_true", help="read the password from the first stdin line")
    pw = verbs.add_parser("passwd", help="set a new password (ends the user's sessions)")
    pw.add_argument("username")
    pw.add_argument("--password-stdin", action="store_true")
    for verb in ("disable", "enable"):
        verbs.add_parser(verb, help=f"{verb} an account").add_argument("username")
    verbs.add_parser("list", help="list accounts (no hashes)")
    sub.add_parser("purge", help="run the retention purge once (the service also runs it on a schedule)")


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise InvalidInputError("the two passwords differ; nothing was changed")
    return first


def users_main(args: argparse.Namespace, out: IO[str]) -> int:
    from .settings import get_settings
    from .store import Store
    from .store.accounts import Accounts

    accounts = Accounts(Store(get_settings()))
    if args.verb == "add":
        accounts.add_user(args.username, _password(args), args.role)
        out.write(f"added {args.role} {args.username}\n")
    elif args.verb == "passwd":
        accounts.set_password(args.username, _password(args))
        out.write(f"password changed for {args.username}; their sessions ended\n")
    elif args.verb in ("disable", "enable"):
        accounts.set_disabled(args.username, args.verb == "disable")
        out.write(f"{args.verb}d {args.username}\n")
    else:
        for user in accounts.list_users():
            out.write(json.dumps(user) + "\n")
    return 0


def purge_main(args: argparse.Namespace, out: IO[str]) -> int:
    from .service.jobs import purge_once
    from .settings import get_settings
    from .store import Store
    from .store.accounts import Accounts

    store = Store(get_settings())  # no guard or model: a purge only touches the store
    out.write(json.dumps(purge_once(store, Accounts(store))) + "\n")
    return 0

"""`childguard users`, `childguard purge` and `childguard serve` as an operator runs them: subprocesses,
real exit codes, a real database and a real HTTP port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from childguard import Settings
from childguard.store import Store
from childguard.store.accounts import Accounts


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "CHILDGUARD_DATABASE_URL": f"sqlite:///{tmp}/cg.db",
            "CHILDGUARD_KEY_FILE": str(tmp / "key"), **extra}


def cli(tmp: Path, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "childguard", *args], input=stdin, capture_output=True, text=True,
                          timeout=120, env=_env(tmp, **env), check=False)


def test_users_add_list_disable_and_login(tmp_path: Path) -> None:
    r = cli(tmp_path, "users", "add", "amina", "--role", "admin", "--password-stdin", stdin="a long passphrase 1\n")
    assert r.returncode == 0 and "added admin amina" in r.stdout, r.stderr
    r = cli(tmp_path, "users", "add", "amina", "--password-stdin", stdin="a long passphrase 1\n")
    assert r.returncode == 2 and "exists" in r.stderr
    r = cli(tmp_path, "users", "add", "bo", "--password-stdin", stdin="short\n")
    assert r.returncode == 2 and "at least 12" in r.stderr
    listed = cli(tmp_path, "users", "list").stdout
    assert '"username": "amina"' in listed and "argon2" not in listed
    accounts = Accounts(Store(Settings(database_url=f"sqlite:///{tmp_path}/cg.db", key_file=tmp_path / "key")))
    assert accounts.login("amina", "a long passphrase 1")[1].is_admin
    assert cli(tmp_path, "users", "disable", "amina").returncode == 0
    assert cli(tmp_path, "users", "disable", "nobody").returncode == 2
    r = cli(tmp_path, "purge")
    assert r.returncode == 0 and '"excerpts_purged": 0' in r.stdout


def test_serve_prints_its_urls_and_no_secret(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "childguard", "serve", "--port", str(port)], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=_env(tmp_path, CHILDGUARD_ENCRYPTION_KEY="A" * 43 + "="))
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        assert httpx.get(f"http://127.0.0.1:{port}/report").status_code == 200
    finally:
        proc.terminate()
        out = proc.communicate(timeout=30)[0]
    assert f"http://127.0.0.1:{port}/console" in out and "/report" in out and "/transparency" in out
    assert "A" * 43 not in out

"""`make run` installs the runtime only; `make test` installs everything; each runtime module imports only
core dependencies, so a service installed without extras starts (the extras own scan/ and privacy.py)."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src/childguard"
# module (folder or file) -> the extra it needs
EXTRA_OWNED = {"scan": "scan", "privacy.py": "privacy", "langchain.py": "langchain", "litellm.py": "litellm",
               "openai_agents.py": "openai-agents"}


def _project() -> dict[str, object]:
    return dict(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"])


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _make(target: str, tmp: Path) -> str:
    run = subprocess.run(["make", "-n", target, f"VENV={tmp}/venv"], cwd=ROOT, capture_output=True, text=True,
                         timeout=30)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_make_run_installs_the_runtime_only(tmp_path: Path) -> None:
    installs = [line for line in _make("run", tmp_path).splitlines() if "pip install" in line and "-e" in line]
    assert installs == [f"{tmp_path}/venv/bin/pip install -q -e ."]
    assert "[dev]" not in _make("demo", tmp_path)


def test_make_test_still_installs_everything(tmp_path: Path) -> None:
    assert f"{tmp_path}/venv/bin/pip install -q -e '.[dev]'" in _make("test", tmp_path)
    extras = dict(_project()["optional-dependencies"])  # type: ignore[call-overload]
    (own,) = [r for r in extras["dev"] if r.startswith("childguard[")]
    assert set(own[len("childguard["):-1].split(",")) == set(extras) - {"dev"}  # dev brings every other extra
    assert "ray" not in {_name(r) for r in _project()["dependencies"]}  # type: ignore[attr-defined]


def _third_party_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m not in ("childguard", "__future__")}


def _closure(names: set[str]) -> set[str]:
    """The core dependencies and what they install in turn (starlette comes with fastapi)."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        todo += [_name(r) for r in requires if "extra ==" not in r]
    return seen


def test_runtime_modules_import_core_dependencies_only() -> None:
    core = _closure({_name(r) for r in _project()["dependencies"]})  # type: ignore[attr-defined]
    dists = importlib.metadata.packages_distributions()
    outside: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] in EXTRA_OWNED or rel.name in EXTRA_OWNED:
            continue
        for module in _third_party_imports(path):
            names = {d.lower().replace("_", "-") for d in dists.get(module, [module])}
            if not names & core:
                outside.setdefault(str(rel), set()).add(module)
    assert outside == {}, f"runtime modules import packages outside the core dependencies: {outside}"


def test_the_readme_says_what_each_extra_brings() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Install"):]
    for extra in dict(_project()["optional-dependencies"]):  # type: ignore[call-overload]
        assert f"`[{extra}]`" in section.split("\n## ", 1)[0], extra

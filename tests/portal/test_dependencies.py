"""The dependencies are honest: what the code imports is declared, and the lock files pin, with hashes,
versions that satisfy pyproject.toml."""

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# The apps, as the import contract lists them.
APPS = tuple(PYPROJECT["tool"]["importlinter"]["root_packages"])
PROJECT = PYPROJECT["project"]
RUNTIME = [Requirement(line) for line in PROJECT["dependencies"]]
TEST = RUNTIME + [Requirement(line) for line in PROJECT["optional-dependencies"]["test"]]


def _imported_distributions(paths) -> dict[str, set[str]]:
    """Distribution name -> the files importing it, for every third-party import in these files."""
    owners = packages_distributions()
    # The project's own modules, the test folders' helper modules among them.
    local = set(APPS) | {"tests", "bench"} | {path.stem for path in ROOT.glob("[!.]*/**/*.py")}
    found: dict[str, set[str]] = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in local:
                    continue
                for distribution in owners.get(top, [top]):
                    found.setdefault(canonicalize_name(distribution), set()).add(str(path.relative_to(ROOT)))
    return found


def _declared(requirements) -> set[str]:
    return {canonicalize_name(requirement.name) for requirement in requirements}


def _undeclared(imported: dict[str, set[str]], declared: set[str]) -> dict[str, set[str]]:
    # A distribution that a declared one ships inside it (django-otp's plugins, celery's kombu under
    # the same name) is still an import of something undeclared unless listed: no exceptions.
    return {name: files for name, files in imported.items() if name not in declared}


def test_every_package_the_portal_imports_is_a_declared_dependency():
    paths = [path for app in APPS for path in (ROOT / app).rglob("*.py") if "migrations" not in path.parts]
    paths += [ROOT / "manage.py", ROOT / "gunicorn.conf.py"]
    undeclared = _undeclared(_imported_distributions(paths), _declared(RUNTIME))

    assert undeclared == {}, f"imported but not in pyproject.toml's dependencies: {undeclared}"


def test_every_package_the_tests_and_tools_import_is_declared_with_the_test_extras():
    paths = [*(ROOT / "tests").rglob("*.py"), *(ROOT / "bench").rglob("*.py"), ROOT / "bin" / "smoke.py"]
    undeclared = _undeclared(_imported_distributions(paths), _declared(TEST))

    assert undeclared == {}, f"imported but not declared: {undeclared}"


def _locked(name: str) -> dict[str, tuple[str, list[str]]]:
    text = (ROOT / name).read_text()
    pins = {}
    for block in re.split(r"\n(?=\S)", text):
        found = re.match(r"([A-Za-z0-9_.\-\[\]]+)==(\S+)", block)
        if found:
            pins[canonicalize_name(found.group(1).split("[")[0])] = (
                found.group(2), re.findall(r"--hash=sha256:([0-9a-f]{64})", block))
    return pins


@pytest.mark.parametrize(("lock", "requirements"), [("requirements.lock", RUNTIME),
                                                    ("requirements-test.lock", TEST)])
def test_the_lock_pins_a_version_allowed_by_pyproject_for_every_dependency_with_hashes(lock, requirements):
    pins = _locked(lock)

    assert pins, f"{lock} pins nothing"
    assert [name for name, (_, hashes) in pins.items() if not hashes] == []
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is missing from {lock}: run bin/lock"
        assert requirement.specifier.contains(pins[name][0], prereleases=True), (
            f"{lock} pins {requirement.name}=={pins[name][0]}, outside {requirement.specifier}: run bin/lock")


def test_the_production_lock_holds_no_test_tool():
    runtime = _locked("requirements.lock")
    for only_for_tests in ("pytest", "playwright", "hypothesis", "httpx"):
        assert only_for_tests not in runtime

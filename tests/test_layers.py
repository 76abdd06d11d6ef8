"""The apps keep their layers (DESIGN.md, Architecture): each imports only from the apps below it,
as the import contract in pyproject.toml says, and the contract grants no exception."""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = [
    "pages",
    "transparency | api",
    "reports | adoption",
    "audits",
    "waivers | incidents | retention | external | kpis",
    "access_requests",
    "security | agreements",
    "accounts",
    "portal",
]
# The apps of each layer: siblings in one layer ("a | b") import nothing from each other.
APPS = [app.strip() for layer in LAYERS for app in layer.split("|")]


def test_the_contract_names_every_app_in_its_layer_with_no_exception():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    [contract] = config["contracts"]

    assert sorted(config["root_packages"]) == sorted(APPS)
    assert contract["type"] == "layers" and contract["layers"] == LAYERS
    assert "ignore_imports" not in contract and "ignore_imports" not in config


def test_no_app_imports_from_an_app_above_it():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stdout + result.stderr

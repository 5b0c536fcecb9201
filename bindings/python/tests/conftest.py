"""Shared fixtures: the repository, the CLI built from the same core, the golden vectors."""

import json
import os
import pathlib
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
VECTORS = REPO / "tests" / "vectors"


def load_vectors():
    """Every golden vector as (id, parsed JSON), sorted by path (as the Rust runner)."""
    out = []
    for path in sorted(VECTORS.rglob("*.json")):
        out.append((str(path.relative_to(VECTORS)), json.loads(path.read_text())))
    return out


def policy_text(v):
    return v["policy_text"] if "policy_text" in v else json.dumps(v.get("policy"))


def batch_text(v):
    if "batch_text" in v:
        return v["batch_text"]
    if "batch" in v:
        return json.dumps(v["batch"])
    return None


@pytest.fixture(scope="session")
def cli():
    """The `fenrun` binary of this checkout (scripts/test.sh builds it first)."""
    exe = os.environ.get("FENRUN_CLI") or str(REPO / "target" / "release" / "fenrun")
    if not pathlib.Path(exe).is_file():
        pytest.fail(f"the fenrun CLI is not built at {exe}; run cargo build --release -p fenrun-cli")

    def run(*args, cwd=None):
        return subprocess.run([exe, *args], capture_output=True, text=True, cwd=cwd)

    return run

"""The plugin from an outside project: a temporary directory holding only test files (the examples
of docs/testing-with-fakes.md and a failing test), run by pytest in a subprocess against the
installed package; and the plugin's footprint in this project's own runs."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "testing-with-fakes.md"
BLOCK = re.compile(r"```python\n# (test_\w+\.py)\n(.*?)```", re.S)

FAILING = """
import tweepy


def test_fails_and_shows_the_calls(fake_x):
    asha = fake_x.create_user("asha")
    tweepy.Client(bearer_token=asha["bearer_token"]).create_tweet(text="visible in the log", user_auth=False)
    assert fake_x.tweets() == []
"""


def doc_examples() -> dict[str, str]:
    examples = dict(BLOCK.findall(DOC.read_text(encoding="utf-8")))
    assert set(examples) == {
        "test_tweepy_example.py",
        "test_xdk_example.py",
        "test_twilio_example.py",
        "test_httpx_example.py",
        "test_stack_example.py",
    }
    return examples


def run_outside(tmp_path: Path, files: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.mark.slow
def test_docs_examples_and_failure_output_in_an_outside_project(tmp_path):
    """Every example of the docs page passes as-is in an empty project; a failing test there prints
    what the fakes received."""
    files = doc_examples()
    files["test_zz_failing.py"] = FAILING
    result = run_outside(tmp_path, files)
    out = result.stdout + result.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".py") == sorted(files)
    assert re.search(r"\b1 failed, 1[0-9] passed\b", out), out[-4000:]
    assert "FAILED test_zz_failing.py::test_fails_and_shows_the_calls" in out
    section = out[out.index("twittcom fakes: calls received") :]
    assert re.search(r"POST\s+https://api.twitter.com/2/tweets -> 201 \[fake X via requests", section)
    assert "visible in the log" in section
    assert "/_fake/" not in section, "the test's own control calls are not what the fakes received"
    assert out.count("twittcom fakes: calls received") == 1, "passing tests print no call log"


def test_no_conftest_of_this_project_shadows_the_plugins_fixtures():
    """The project's own conftest files define none of the plugin's fixture names (a conftest
    fixture would silently replace the plugin's in that folder)."""
    names = {"fake_x", "fake_sms", "twittcom_stack"}
    for conftest in [*ROOT.glob("tests/**/conftest.py"), ROOT / "benchmarks" / "conftest.py"]:
        tree = ast.parse(conftest.read_text(encoding="utf-8"))
        defined = {
            node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        assigned = {
            t.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign)
            for t in node.targets
            if isinstance(t, ast.Name)
        }
        assert not (defined | assigned) & names, f"{conftest} defines {(defined | assigned) & names}"


def test_the_plugin_is_registered_and_loads_no_fake(tmp_path):
    """Installed, the plugin is found through its entry point; loading it imports no fake, no SDK
    and not the interception layer (respx is loaded by respx's own plugin, not by this one)."""
    probe = (
        "import sys, pytest\n"
        "class P:\n"
        "    def pytest_sessionfinish(self, session):\n"
        "        pm = session.config.pluginmanager\n"
        "        assert pm.has_plugin('twittcom.testing.plugin')\n"
        "        names = ('fake_twitter', 'fake_sms', 'tweepy', 'twilio', 'reference',\n"
        "                 'twittcom.testing.intercept')\n"
        "        heavy = [m for m in names if m in sys.modules]\n"
        "        print('HEAVY', heavy)\n"
        "pytest.main(['-q', '-p', 'no:cacheprovider', '--co'], plugins=[P()])\n"
    )
    (tmp_path / "test_empty.py").write_text("def test_nothing():\n    pass\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [("-p", "twittcom.testing.plugin"), ("-p", "no:twittcom.testing.plugin")],
    ids=["named-again", "disabled"],
)
def test_p_options_do_not_break_a_run(tmp_path, args):
    """Naming the plugin again with -p loads it once; -p no: disables it (its fixture is gone)."""
    test = "def test_uses(request):\n    request.getfixturevalue('fake_x')\n"
    result = run_outside(tmp_path, {"test_p.py": test}, *args)
    if args[1].startswith("no:"):
        assert "fixture 'fake_x' not found" in result.stdout, result.stdout
    else:
        assert result.returncode == 0, result.stdout + result.stderr

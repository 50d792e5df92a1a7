"""One source of truth for the environment, and the two commands the README promises."""
import re
import subprocess

import pytest

from support.course import ROOT


def _pins():
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"requirements.txt: {line!r} is not pinned with =="
            pins[name.lower()] = version
    return pins


def test_environment_yml_installs_the_pinned_requirements():
    text = (ROOT / "environment.yml").read_text()
    assert re.search(r"^\s*-\s*-r requirements\.txt\s*$", text, re.M), \
        "environment.yml must install requirements.txt"
    assert re.search(r"^\s*-\s*python=3\.11\s*$", text, re.M)
    assert not re.search(r"^\s*-\s*(numpy|scipy|nbgrader|scikit-learn|matplotlib)\b", text, re.M), \
        "environment.yml pins a package itself: keep versions in requirements.txt only"


def test_installed_packages_are_the_pinned_ones():
    out = subprocess.run(["python", "-m", "pip", "freeze"], capture_output=True, text=True, check=True).stdout
    installed = {l.split("==")[0].lower(): l.split("==")[1] for l in out.splitlines() if "==" in l}
    for name, version in _pins().items():
        assert installed.get(name) == version, f"{name}: pinned {version}, installed {installed.get(name)}"


def test_readme_gives_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    assert "./run grade" in readme and "./run test" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert "./run test" in ci


def test_config_is_short_and_explains_every_setting():
    lines = (ROOT / "nbgrader_config.py").read_text().splitlines()
    settings = [i for i, l in enumerate(lines) if l.startswith("c.")]
    assert 0 < len(settings) <= 40, "nbgrader_config.py should hold only the settings the course uses"
    for i in settings:
        assert lines[i - 1].startswith("#"), f"nbgrader_config.py: {lines[i]!r} has no one-line reason above it"


@pytest.mark.slow  # runs nbgrader
def test_nbgrader_loads_the_config_with_every_protection(tmp_path):
    """nbgrader only logs a broken config and goes on with its defaults: that must never pass unnoticed."""
    from course.pipeline import nbgrader
    out = nbgrader(ROOT, "autograde", "--help-all", check=False)
    assert "Exception while loading config file" not in out.stdout + out.stderr, (out.stdout + out.stderr)[-2000:]
    from traitlets.config.loader import PyFileConfigLoader
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    assert config.Autograde.autograde_preprocessors[0] == "course.protection.trusted_execute.TrustedExecute"
    assert config.Autograde.exporter_class == "course.protection.repair.RepairingExporter"
    assert callable(config.Autograde.pre_convert_hook)

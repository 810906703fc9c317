"""Shell completion: the values the completers offer, the script Typer prints, and a real
completion request answered by the installed command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mbcalc.cli.completion import complete_device, complete_profile, complete_spec
from tests.helpers.cli import invoke_mbcalc
from tests.helpers.process import run_python

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted(path.stem for path in (ROOT / "archs").glob("*.yaml"))
DEVICES = sorted(path.stem for path in (ROOT / "mbcalc" / "deploy" / "devices").glob("*.yaml"))


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with specs, other files, a sub-folder and hidden entries."""
    for name in ("net.yaml", "net2.yml", "notes.txt", ".hidden.yaml", "sub/inner.yaml"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("", encoding="utf-8")
    (tmp_path / ".cache").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_spec_completes_shipped_names() -> None:
    assert complete_spec("mobilenet_v3") == ["mobilenet_v3_large", "mobilenet_v3_small"]
    assert complete_spec("zzz") == []


def test_spec_completes_yaml_files_and_folders(folder: Path) -> None:
    assert complete_spec("n") == ["net.yaml", "net2.yml"]
    assert complete_spec("s") == [*(n for n in SHIPPED if n.startswith("s")), "sub/"]
    assert complete_spec("sub/") == ["sub/inner.yaml"]
    assert complete_spec(".") == [".cache/", ".hidden.yaml"]
    assert complete_spec(f"{folder}/net") == [f"{folder}/net.yaml", f"{folder}/net2.yml"]
    assert complete_spec("missing/") == []
    assert complete_spec("") == [*SHIPPED, "net.yaml", "net2.yml", "sub/"]


def test_spec_completes_onnx_files_a_device_does_not(folder: Path) -> None:
    (folder / "model.onnx").write_bytes(b"")
    assert complete_spec("m") == [*(n for n in SHIPPED if n.startswith("m")), "model.onnx"]
    assert complete_device("m") == [n for n in DEVICES if n.startswith("m")]


def test_profile_and_device_complete(folder: Path) -> None:
    assert complete_profile("pt") == ["ptflops", "ptflops-aten"]
    assert complete_profile("") == ["paper", "torch", "fvcore", "thop", "ptflops", "ptflops-aten"]
    assert complete_device("") == [*DEVICES, "net.yaml", "net2.yml", "sub/"]
    assert complete_device("jet") == [name for name in DEVICES if name.startswith("jet")]


def test_show_completion_prints_a_bash_script(monkeypatch: pytest.MonkeyPatch) -> None:
    """Typer detects the user's shell from the process tree; told not to (as where no shell
    runs the tests), `--show-completion` takes the shell's name."""
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    result = invoke_mbcalc("--show-completion", "bash")
    assert result.exit_code == 0, result.output
    assert "_MBCALC_COMPLETE=complete_bash" in result.stdout
    assert "complete -o default -F _mbcalc_completion mbcalc" in result.stdout


def test_help_offers_completion() -> None:
    text = invoke_mbcalc("--help").stdout
    assert "--install-completion" in text
    assert "--show-completion" in text


def completion_of(words: str) -> list[str]:
    """What the installed `mbcalc` answers bash when the cursor ends `words`."""
    script = Path(sys.executable).parent / "mbcalc"
    env = {
        **os.environ,
        "_MBCALC_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - 1),
    }
    result = subprocess.run(
        [str(script)], env=env, capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_the_shell_gets_the_completions() -> None:
    assert completion_of("mbcalc table mobilenet_v3") == [
        "mobilenet_v3_large",
        "mobilenet_v3_small",
    ]
    assert completion_of("mbcalc compare mobilenet_v1 resnet") == [
        "resnet101",
        "resnet152",
        "resnet18",
        "resnet34",
        "resnet50",
    ]
    assert completion_of("mbcalc table x --profile ptflops-") == ["ptflops-aten"]
    assert completion_of("mbcalc roofline x --device jet") == ["jetson-nano"]


def test_completion_imports_what_it_lists_only_when_asked() -> None:
    probe = (
        "import sys; import mbcalc.cli.app\n"
        "from mbcalc.cli.completion import complete_device, complete_spec\n"
        "listed = ('mbcalc.spec.zoo', 'mbcalc.deploy.roofline')\n"
        "print(*(name in sys.modules for name in listed))\n"
        "complete_spec(''); complete_device('')\n"
        "print(*(name in sys.modules for name in listed))"
    )
    result = run_python(probe)
    assert result.stdout.split() == ["False", "False", "True", "True"]

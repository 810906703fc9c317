"""Where a report may be written: new paths and regular files only, never an input, never
twice, never a read-only file without --force; nothing left behind when SIGTERM interrupts."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mbcalc.cli.output import write_atomic
from mbcalc.errors import OutputError
from tests.helpers.cli import invoke_mbcalc

SPEC = Path(__file__).parent.parent / "archs" / "mobilenet_v1.yaml"
OLD = b"old contents\n"


def copy_spec(folder: Path) -> Path:
    spec = folder / "net.yaml"
    shutil.copyfile(SPEC, spec)
    return spec


def assert_refused(args: tuple[str, ...], code: int, *words: str) -> None:
    result = invoke_mbcalc(*args)
    assert result.exit_code == code, (result.exit_code, result.output)
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.stdout == ""
    assert "Traceback" not in result.output
    if code == 1:
        (line,) = result.stderr.splitlines()
        assert line.startswith("mbcalc: error: "), line
    error = " ".join(result.stderr.replace("│", " ").split())
    for word in words:
        assert word in error, (word, result.stderr)


# -- inputs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["table", "breakdown", "chart", "roofline"])
def test_the_output_may_not_be_the_input_spec(command: str, tmp_path: Path) -> None:
    spec = copy_spec(tmp_path)
    before = spec.read_bytes()
    assert_refused((command, str(spec), "-o", str(spec)), 1, "is the input")
    assert spec.read_bytes() == before


def test_the_output_may_not_be_the_input_through_a_symlink_or_another_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = copy_spec(tmp_path)
    before = spec.read_bytes()
    (tmp_path / "link.yaml").symlink_to(spec)
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    assert_refused(("table", "net.yaml", "-f", "csv", "-o", "link.yaml"), 1, "is the input")
    assert_refused(("table", "net.yaml", "-o", "./sub/../net.yaml"), 1, "is the input")
    assert_refused(("compare", "net.yaml", "net.yaml@alpha=0.5", "-o", str(spec)), 1, "input")
    assert spec.read_bytes() == before
    assert (tmp_path / "link.yaml").is_symlink()


def test_the_output_may_not_be_the_device_file(tmp_path: Path) -> None:
    device = tmp_path / "dev.yaml"
    device.write_text(
        "name: d\nsource: s\nmult_adds_per_second: 1G\nbandwidth_bytes_per_second: 1G\n",
        encoding="utf-8",
    )
    before = device.read_bytes()
    for command in ("table", "roofline", "sweep"):
        args = (command, "mobilenet_v1", "--device", str(device), "-f", "json", "-o", str(device))
        assert_refused(args, 1, "is the input")
    assert device.read_bytes() == before


@pytest.mark.parametrize("command", ["roofline", "sweep"])
def test_output_and_plot_naming_one_file_are_refused(command: str, tmp_path: Path) -> None:
    target = tmp_path / "x.png"
    target.write_bytes(OLD)
    args = (command, "mobilenet_v1", "-f", "json", "--output", str(target), "--plot")
    assert_refused((*args, str(target)), 1, "two outputs")
    assert_refused((*args, str(tmp_path / "new.png"), "-o", str(tmp_path / "new.png")), 1)
    assert target.read_bytes() == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.png"]


# -- what is at the output path -------------------------------------------------------------------


def test_a_fifo_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert_refused(("table", "mobilenet_v1", "-o", str(fifo)), 1, "not a regular file")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    with pytest.raises(OutputError, match="not a regular file"):
        write_atomic(fifo, "text")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo"]


def test_a_device_node_is_refused(tmp_path: Path) -> None:
    """A node like /dev/null, made in a temporary folder (the real one is never risked)."""
    null = tmp_path / "null"
    try:
        os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device node needs root")
    before = os.lstat(null)
    assert_refused(("table", "mobilenet_v1", "-o", str(null)), 1, "not a regular file")
    after = os.lstat(null)
    assert stat.S_ISCHR(after.st_mode)
    assert (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)


def test_a_symlink_is_written_through_to_its_target(tmp_path: Path) -> None:
    target = tmp_path / "real.txt"
    target.write_bytes(OLD)
    target.chmod(0o640)
    link = tmp_path / "link.txt"
    link.symlink_to(target.name)
    result = invoke_mbcalc("table", "mobilenet_v1", "-f", "csv", "-o", str(link))
    assert result.exit_code == 0, result.output
    assert link.is_symlink()
    assert target.read_text(encoding="utf-8").startswith("name,unit,op,")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.txt", "real.txt"]


def test_a_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link.txt"
    link.symlink_to("made.txt")
    assert invoke_mbcalc("table", "mobilenet_v1", "-f", "csv", "-o", str(link)).exit_code == 0
    assert link.is_symlink()
    assert (tmp_path / "made.txt").read_text(encoding="utf-8").startswith("name,unit,op,")


def test_a_replaced_file_keeps_its_mode(tmp_path: Path) -> None:
    output = tmp_path / "report.csv"
    output.write_bytes(OLD)
    output.chmod(0o600)
    assert invoke_mbcalc("table", "mobilenet_v1", "-f", "csv", "-o", str(output)).exit_code == 0
    assert stat.S_IMODE(output.stat().st_mode) == 0o600


@pytest.mark.parametrize("command", ["table", "breakdown", "chart", "fit", "sweep", "compare"])
def test_a_read_only_file_is_replaced_only_with_force(command: str, tmp_path: Path) -> None:
    output = tmp_path / "report.txt"
    output.write_bytes(OLD)
    output.chmod(0o444)
    args = {
        "fit": ("fit", "mobilenet_v1", "--max-mult-adds", "300M"),
        "compare": ("compare", "mobilenet_v1", "mobilenet_v1@alpha=0.5"),
    }.get(command, (command, "mobilenet_v1"))
    assert_refused((*args, "-o", str(output)), 1, "read-only", "--force")
    assert output.read_bytes() == OLD
    result = invoke_mbcalc(*args, "-o", str(output), "--force")
    assert result.exit_code == 0, result.output
    assert output.read_bytes() != OLD
    assert stat.S_IMODE(output.stat().st_mode) == 0o444


def test_a_trailing_slash_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert_refused(("table", "mobilenet_v1", "-o", "nosuch/"), 2, "slash")
    assert_refused(("sweep", "mobilenet_v1", "-f", "json", "--plot", "plots/"), 2, "slash")
    assert list(tmp_path.iterdir()) == []


# -- SIGTERM while writing ------------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import os, sys, time
    real_replace = os.replace

    def slow_replace(source, target):
        print("writing", flush=True)
        time.sleep(60)
        real_replace(source, target)

    os.replace = slow_replace
    from mbcalc.cli.app import app
    app(["table", "mobilenet_v1", "-f", "csv", "-o", sys.argv[1]])
    """
)


@pytest.mark.parametrize("existing", [False, True])
def test_sigterm_while_writing_leaves_no_temporary_file(existing: bool, tmp_path: Path) -> None:
    """A real process, stopped by SIGTERM between writing its temporary file and renaming it."""
    output = tmp_path / "report.csv"
    if existing:
        output.write_bytes(OLD)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(output)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "writing\n"
    assert any(p.name.endswith(".tmp") for p in tmp_path.iterdir())  # caught mid-write
    child.send_signal(signal.SIGTERM)
    _, stderr = child.communicate(timeout=30)
    assert child.returncode == 128 + signal.SIGTERM, stderr
    assert "Traceback" not in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == (["report.csv"] if existing else [])
    if existing:
        assert output.read_bytes() == OLD

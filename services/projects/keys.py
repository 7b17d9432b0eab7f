"""`python -m projects.keys` (`minsheng-projects-keys`): the projects service's API keys.

The commands are `minsheng.keys_cli`'s, on the projects database.
"""

from __future__ import annotations

import sys

from minsheng import keys_cli
from projects.main import MIGRATIONS, SERVICE


def main(argv: list[str] | None = None) -> int:
    return keys_cli.main(SERVICE, MIGRATIONS, argv)


if __name__ == "__main__":
    sys.exit(main())

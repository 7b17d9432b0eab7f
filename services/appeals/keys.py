"""`python -m appeals.keys` (`minsheng-appeals-keys`): the appeals service's API keys.

The commands are `minsheng.keys_cli`'s, on the appeals database.
"""

from __future__ import annotations

import sys

from appeals.main import MIGRATIONS, SERVICE
from minsheng import keys_cli


def main(argv: list[str] | None = None) -> int:
    return keys_cli.main(SERVICE, MIGRATIONS, argv)


if __name__ == "__main__":
    sys.exit(main())

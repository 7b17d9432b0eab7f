"""`python -m notifications.keys` (`minsheng-notifications-keys`): the service's API keys.

The commands are `minsheng.keys_cli`'s, on the notifications database.
"""

from __future__ import annotations

import sys

from minsheng import keys_cli
from notifications.main import MIGRATIONS, SERVICE


def main(argv: list[str] | None = None) -> int:
    return keys_cli.main(SERVICE, MIGRATIONS, argv)


if __name__ == "__main__":
    sys.exit(main())

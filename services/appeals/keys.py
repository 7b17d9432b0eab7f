"""`python -m appeals.keys` (`minsheng-appeals-keys`): the appeals service's API keys.

The commands are `minsheng.keys_cli`'s, on the appeals database.
"""

from appeals.main import MIGRATIONS, SERVICE
from minsheng import keys_cli

main = keys_cli.entry_point(SERVICE, MIGRATIONS, __name__)

"""`python -m projects.keys` (`minsheng-projects-keys`): the projects service's API keys.

The commands are `minsheng.keys_cli`'s, on the projects database.
"""

from minsheng import keys_cli
from projects.main import MIGRATIONS, SERVICE

main = keys_cli.entry_point(SERVICE, MIGRATIONS, __name__)

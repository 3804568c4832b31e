"""``python -m lwm2m_client`` is the ``lwm2m-meter`` command."""

import sys

from lwm2m_client.cli import main

sys.exit(main())

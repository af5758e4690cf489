"""`python -m devhost.worker`: the language worker process the local host starts."""

from devhost.worker.start import main

raise SystemExit(main())

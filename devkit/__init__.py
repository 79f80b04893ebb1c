"""Development helpers shared by the demo, the scripts and the tests: the dev chain's time controls
(``devchain``), sample licenses (``samples``), self-signed SM2 certificates (``certificates``), the
demo story (``demo``), one department on a fresh deployment (``world``), a hardhat node on a port of
the kernel's choosing (``nodes``), a TCP proxy to cut a node off (``proxy``), serving the app
(``serving``) and deadline-bounded waits (``waiting``).

Production code (``registry``, ``signer``, ``verifier``, the HTTP service in ``api``) never imports
this package; only the command line's ``demo`` and ``serve`` (demo mode) commands do.
"""

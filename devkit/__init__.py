"""Development helpers shared by the demo, the scripts and the tests: the in-process dev chain's
time controls, sample licenses, the demo story, a hardhat node launcher and a TCP proxy.

Production code (``registry``, ``signer``, ``verifier``, the HTTP service in ``api``) never imports
this package; only the command line's ``demo`` and ``serve`` (demo mode) commands do.
"""

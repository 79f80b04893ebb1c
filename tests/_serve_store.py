"""A service process over a lasting issuer store (unlike ``elicense serve``'s demo mode, which
starts from a fresh store): a fresh in-process chain with one department (devkit.world), the store
at HOME/store.db kept across runs, the real app served by uvicorn. The department's API key is
created on the first run and written to HOME/api-key. For tests that kill and restart the service.

    python tests/_serve_store.py HOME PORT

PORT 0 lets the kernel pick the port. Once the socket is bound, and before serving, the process
prints ``listening on http://127.0.0.1:PORT`` (with the actual port) on its standard output.
"""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn

from api.main import create_app
from api.services import Services
from api.settings import Settings
from devkit.serving import listening_socket
from devkit.world import deploy_department
from registry import connect
from registry.issuer.store import IssuerStore
from verifier.mirror import Mirror


def main(home: Path, port: int) -> None:
    setup = deploy_department(connect(None))
    d = setup.client.deployment
    store = IssuerStore.at(home / "store.db")
    department = setup.department(store)
    sock = listening_socket(port)
    port = sock.getsockname()[1]
    mirror = Mirror.at(home / f"mirror-{port}-{len(list(home.glob('mirror-*')))}.db", d, confirmations=1)
    services = Services(
        Settings(home=home),
        deployment=d,
        client=setup.client,
        mirror=mirror,
        store=store,
        departments={setup.uscc: department},
    )
    key_file = home / "api-key"
    if not key_file.exists():
        key_file.write_text(services.api_keys.create(setup.uscc, "crash test")[1])
    print(f"listening on http://127.0.0.1:{port}", flush=True)
    uvicorn.Server(uvicorn.Config(create_app(services), log_level="warning", access_log=False)).run(sockets=[sock])


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))

"""`photocritic serve`: the web app (upload and score; cull a library folder in the browser)."""
from __future__ import annotations

import sys
from pathlib import Path

import typer

from photocritic.cli.common import builtin_models, check_output_file, usage_error

SERVE_EPILOG = """
**Examples**

* `photocritic serve` : the upload page at http://127.0.0.1:8000/
* `photocritic serve ~/Pictures/shoot` : also review and cull that folder at http://127.0.0.1:8000/library
* `photocritic serve ~/Pictures/shoot --port 8765 --model runs/my-ava-run`
* `photocritic serve ~/Pictures/shoot --port 0` : any free port (the address is printed)

The JSON API is under /api/ (docs at /api/docs). Uploaded photos are scored and forgotten; culling
decisions go to XMP sidecars beside the photos with the options and rules of `photocritic cull --xmp`
(a key pressed on a photo writes the sidecars of its whole group). The server listens on 127.0.0.1
unless you pass --host; it has no login, so expose it only to a network you trust.

**Exit codes**: 0 stopped (Ctrl-C); 2 usage or environment error (e.g. the port is in use);
3 internal error (a bug: please report it).
"""


def _bind(host: str, port: int):
    """The listening socket, bound here so that a port in use is a one-line usage error, not uvicorn's."""
    import errno
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise usage_error(f"--host {host!r}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise usage_error(f"port {port} on {host} is in use (another server?); choose another with --port, or --port 0 for any free one") from None
        if exc.errno == errno.EACCES:
            raise usage_error(f"not allowed to listen on port {port} (ports below 1024 need privileges); choose another with --port") from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise usage_error(f"--host {host!r} is not an address of this machine") from None
        raise usage_error(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve_command(
    library: Path = typer.Argument(None, metavar="FOLDER", help="A folder of photos to cull in the browser (optional).", show_default=False),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0: every interface)."),
    port: int = typer.Option(8000, "--port", "-p", min=0, max=65535, help="Port to listen on (0: any free port)."),
    model: str = typer.Option("default", "--model", "-m", help=f"A built-in model name ({builtin_models()}) or a model bundle folder."),
    catalog: Path = typer.Option(None, "--catalog", envvar="PHOTOCRITIC_CATALOG", help="The SQLite catalog [default: ~/.cache/photocritic/catalog.sqlite]."),
    max_files: int = typer.Option(20, "--max-files", min=1, max=1000, help="Most photos per upload request."),
    max_file_mb: float = typer.Option(50, "--max-file-mb", min=0.01, help="Largest upload accepted, per file, in MB."),
    allow_host: list[str] = typer.Option(None, "--allow-host", help="Also accept requests for this Host name (repeatable; for a non-loopback --host; by default only loopback names and this machine's own names and addresses are accepted)."),
    sidecar: str = typer.Option("replace", "--sidecar", help="Sidecar naming: replace (IMG_1.xmp) | append (IMG_1.JPG.xmp)."),
    pick_rating: int = typer.Option(4, "--pick-rating", min=0, max=5, help="Stars for the pick of each group (and photos you accept)."),
    reject_rating: int = typer.Option(1, "--reject-rating", min=-1, max=5, help="Stars for the others; -1 = rejected (darktable, digiKam, Bridge)."),
    pick_label: str = typer.Option(None, "--pick-label", help="xmp:Label for picks, e.g. Green."),
    reject_label: str = typer.Option(None, "--reject-label", help="xmp:Label for rejects, e.g. Red."),
    overwrite_ratings: bool = typer.Option(False, "--overwrite-ratings", help="Replace ratings you set in other tools on the photos of a group you did not act on."),
    log_level: str = typer.Option("warning", "--log-level", help="uvicorn log level: critical | error | warning | info | debug."),
) -> None:
    """Serve the web app: upload photos to score them, review and cull a library folder in the browser."""
    import uvicorn

    from photocritic.models.zoo import ModelError

    from photocritic.web.app import create_app
    from photocritic.web.culling_view import XmpRules
    from photocritic.web.security import default_allowed_hosts

    if library is not None and not library.expanduser().is_dir():
        raise usage_error(f"not a folder: {str(library)!r}")
    if sidecar not in ("replace", "append"):
        raise usage_error(f"--sidecar must be replace or append, not {sidecar!r}")
    check_output_file(catalog, "--catalog", example="catalog.sqlite")  # the library is scored once the server is up
    sock = _bind(host, port)  # before the model loads: a port in use is known at once
    rules = XmpRules(
        pick_rating=pick_rating,
        reject_rating=reject_rating,
        pick_label=pick_label,
        reject_label=reject_label,
        style=sidecar,
        overwrite_ratings=overwrite_ratings,
    )
    # requests must name this machine (loopback, its host name or an address of its own) or a name
    # given with --allow-host; never any name (DNS rebinding)
    hosts = default_allowed_hosts(host) + list(allow_host or [])
    try:
        app = create_app(
            library.expanduser() if library is not None else None,
            model=model,
            catalog=catalog,
            allowed_hosts=hosts,
            max_files=max_files,
            max_file_mb=max_file_mb,
            xmp_rules=rules,
        )
    except ModelError as exc:
        sock.close()
        raise usage_error(str(exc)) from None
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, server_header=False)
    server = uvicorn.Server(config)
    shown_host = f"[{host}]" if ":" in host else host

    original_startup = server.startup

    async def startup(sockets=None) -> None:  # print the real port (``--port 0`` picks a free one)
        await original_startup(sockets=sockets)
        bound = sock.getsockname()[1]
        where = f"http://{shown_host}:{bound}/"
        print(f"photocritic: serving on {where}" + (f"  (library: {where}library)" if library else ""), file=sys.stderr, flush=True)

    server.startup = startup
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()

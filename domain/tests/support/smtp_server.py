"""A real SMTP server for Candor's mail-queue tests, on aiosmtpd (Debian's python3-aiosmtpd).

    python3 smtp_server.py MODE DIR

MODE is `accept` (each message is stored as a file in DIR), `refuse` (every recipient gets
550, a permanent refusal) or `busy` (every recipient gets 451, a temporary one). Prints the port
it listens on (127.0.0.1) on one line, then serves until it is killed.
"""

import pathlib
import socket
import sys
import time
import uuid

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, mode, out):
        self.mode = mode
        self.out = out

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.mode == "refuse":
            return "550 5.1.1 Mailbox unavailable"
        if self.mode == "busy":
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        name = f"{time.monotonic_ns():020d}-{uuid.uuid4()}.eml"
        (self.out / name).write_bytes(envelope.content)
        return "250 Message accepted for delivery"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main():
    mode, out = sys.argv[1], pathlib.Path(sys.argv[2])
    port = free_port()
    controller = Controller(Handler(mode, out), hostname="127.0.0.1", port=port)
    controller.start()
    print(port, flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()

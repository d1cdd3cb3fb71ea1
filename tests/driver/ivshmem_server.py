#!/usr/bin/env python3
"""ivshmem_server.py SOCKET REGS SECONDS - gives one QEMU ivshmem-doorbell device
its memory and an interrupt, for the QEMU test of fcap.ko.

Speaks the server side of QEMU's ivshmem protocol (QEMU docs,
specs/ivshmem-spec): protocol version 0, the client's id, the shared memory
(the stand-in card's register file REGS, tests/driver/mkregs.py) and one
eventfd for the client's MSI-X vector 0. Then it writes that eventfd every
50 ms, so the guest takes an MSI-X interrupt whenever the driver has the
vector enabled: the driver's MSI-X path (vector allocation, handler, free)
runs against it. Exits when QEMU closes the connection or after SECONDS.
"""
import os
import socket
import struct
import sys
import time


def send(conn, value, fd=None):
    data = struct.pack("<q", value)
    if fd is None:
        conn.sendall(data)
    else:
        socket.send_fds(conn, [data], [fd])


def main():
    path, regs, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    if os.path.exists(path):
        os.unlink(path)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(seconds)
    conn, _ = srv.accept()
    shm = os.open(regs, os.O_RDWR)
    vector = os.eventfd(0, os.EFD_NONBLOCK)
    client_id = 1
    send(conn, 0)                 # protocol version
    send(conn, client_id)         # the client's own id
    send(conn, -1, shm)           # the shared memory
    send(conn, client_id, vector) # the client's vector 0
    conn.setblocking(False)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if conn.recv(1) == b"":
                break             # QEMU went away
        except BlockingIOError:
            pass
        os.eventfd_write(vector, 1)
        time.sleep(0.05)


if __name__ == "__main__":
    main()

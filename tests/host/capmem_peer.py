#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A hostile capmem peer for tests/host/apps_test.sh: speaks the channel wire
format (host/wire.h) on a raw SOCK_SEQPACKET socket, so it can send what the
capmem tool never would.

  capmem_peer.py send MODE SOCK    connect to a `capmem recv` at SOCK
  capmem_peer.py recv MODE SOCK    listen at SOCK as a `capmem send`'s receiver

send MODEs: unsealed, shrinkable (sealed write only), pipe, two, nohandle,
readmaponly (no DUPLICATE/TRANSFER right), hugeBYTES (sealed, sparse),
garbage, silent (connect, say nothing, stay), hangup (connect, close).
recv MODEs: wrongdigest, garbage, silent.
"""
import fcntl
import os
import socket
import struct
import sys
import time

MAGIC, VERSION = 0x48434D43, 3
OBJ_VMO = 1
R_READ, R_WRITE, R_MAP, R_DUP, R_TRANSFER = 1, 2, 4, 8, 16
HELLO = b"capmem-send v1"


def record(payload, handles):
    hdr = struct.pack("<IHHII", MAGIC, VERSION, len(handles), len(payload), 0)
    desc = b"".join(struct.pack("<IIQ", t, r, 0) for t, r, _ in handles)
    return hdr + desc + payload


def send_record(s, payload, handles):
    fds = [fd for _, _, fd in handles]
    anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("%di" % len(fds), *fds))] if fds else []
    s.sendmsg([record(payload, handles)], anc)


def memfd(data, seals):
    fd = os.memfd_create("peer", os.MFD_ALLOW_SEALING)
    os.write(fd, data)
    if seals:
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, seals)
    return fd


def hostile_send(mode, path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    rw = R_READ | R_MAP | R_DUP | R_TRANSFER
    data = b"hostile bytes\n" * 100
    if mode == "unsealed":
        send_record(s, HELLO, [(OBJ_VMO, rw | R_WRITE, memfd(data, 0))])
    elif mode == "shrinkable":
        send_record(s, HELLO, [(OBJ_VMO, rw, memfd(data, fcntl.F_SEAL_WRITE))])
    elif mode == "pipe":
        r, _w = os.pipe()
        send_record(s, HELLO, [(OBJ_VMO, rw, r)])
    elif mode == "two":
        full = fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL
        send_record(s, HELLO, [(OBJ_VMO, rw, memfd(data, full)), (OBJ_VMO, rw, memfd(data, full))])
    elif mode.startswith("huge"):
        # A sealed, sparse object of the size after "huge": costs the
        # sender nothing; hashing or writing it costs the receiver.
        fd = os.memfd_create("peer", os.MFD_ALLOW_SEALING)
        os.ftruncate(fd, int(mode[4:]))
        full = fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, full)
        send_record(s, HELLO, [(OBJ_VMO, rw, fd)])
    elif mode == "readmaponly":
        # Sealed and readable, but the handle may not be duplicated or
        # transferred: it cannot be handed on to an --exec command.
        full = fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL
        send_record(s, HELLO, [(OBJ_VMO, R_READ | R_MAP, memfd(data, full))])
    elif mode == "nohandle":
        send_record(s, HELLO, [])
    elif mode == "garbage":
        s.send(b"\xff" * 40)
    elif mode == "silent":
        time.sleep(30)
        return
    elif mode == "hangup":
        s.close()
        return
    else:
        sys.exit("unknown mode " + mode)
    # Read the refusal (if any) so the test can show it, then hang up.
    s.settimeout(10)
    try:
        sys.stdout.write(repr(s.recv(4096)) + "\n")
    except OSError as e:
        sys.stdout.write("no reply: %s\n" % e)
    s.close()


def hostile_recv(mode, path):
    lis = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    lis.bind(path)
    lis.listen(1)
    c, _ = lis.accept()
    c.recvmsg(4096, socket.CMSG_SPACE(16 * 4))
    if mode == "wrongdigest":
        c.send(record(b"sha256:" + b"\x42" * 32, []))
    elif mode == "garbage":
        c.send(b"\x00" * 7)
    elif mode == "silent":
        pass
    time.sleep(30)


if __name__ == "__main__":
    role, mode, path = sys.argv[1:4]
    (hostile_send if role == "send" else hostile_recv)(mode, path)

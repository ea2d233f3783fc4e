#!/usr/bin/env python3
"""Traffic peers for pcaps/gen/make-captures.sh (tcpscope test captures).

Every role is bounded: sockets have timeouts and loops have fixed counts, so each
process ends by itself. Only the socket module (and the standard library) is used.

  peer.py bulk-server  HOST PORT                 accept one connection, read to EOF, close
  peer.py bulk-client  HOST PORT NBYTES          send NBYTES, half-close, wait for EOF
  peer.py rr-server    HOST PORT COUNT           COUNT request/response connections (server closes first)
  peer.py rr-client    HOST PORT COUNT [REUSE]   COUNT connections; REUSE of them from a few fixed source ports
  peer.py zw-server    HOST PORT PAUSE           small SO_RCVBUF, read a little, stop reading PAUSE s, read to EOF
  peer.py zw-client    HOST PORT NBYTES          send NBYTES as fast as possible
  peer.py ka-server    HOST PORT                 keep-alive on, read to EOF
  peer.py ka-client    HOST PORT IDLE            keep-alive (idle 1 s, interval 1 s), one request, idle IDLE s, close
  peer.py rst-server   HOST PORT                 serves the three connections of rst-client
  peer.py rst-client   HOST PORT CLOSED_PORT     refused connect, SO_LINGER{1,0} abort, close with unread data
"""
import socket, struct, sys, time

TIMEOUT = 60.0  # no single blocking call waits longer than this


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def listener(host, port, rcvbuf=None, backlog=16):
    s = socket.socket(family(host), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if rcvbuf:
        # before listen(): accepted sockets inherit it and the window scale is chosen from it
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((host, port))
    s.listen(backlog)
    s.settimeout(TIMEOUT)
    return s


def connect(host, port, sport=None):
    s = socket.socket(family(host), socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    if sport:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, sport))
    s.connect((host, port))
    return s


def read_to_eof(c, chunk=65536, limit=1 << 26):
    n = 0
    while n < limit:
        b = c.recv(chunk)
        if not b:
            break
        n += len(b)
    return n


def read_exact(c, n):
    got = 0
    while got < n:
        b = c.recv(n - got)
        if not b:
            break
        got += len(b)
    return got


def payload(n):
    pat = bytes(range(32, 127))
    return (pat * (n // len(pat) + 1))[:n]


def bulk_server(host, port):
    with listener(host, port) as s:
        c, _ = s.accept()
        with c:
            c.settimeout(TIMEOUT)
            n = read_to_eof(c)
            c.sendall(b"OK %d\n" % n)
    print("bulk-server: got", n, "bytes", file=sys.stderr)


def bulk_client(host, port, nbytes):
    with connect(host, port) as c:
        c.sendall(payload(nbytes))
        c.shutdown(socket.SHUT_WR)
        reply = read_to_eof(c)
    print("bulk-client: sent", nbytes, "reply", reply, file=sys.stderr)


REQ = 200
RESP = 3000


def rr_server(host, port, count):
    with listener(host, port) as s:
        for i in range(count):
            try:
                c, _ = s.accept()
            except socket.timeout:
                print("rr-server: accept timed out after", i, file=sys.stderr)
                return
            with c:
                c.settimeout(TIMEOUT)
                try:
                    read_exact(c, REQ)
                    c.sendall(payload(RESP))
                    # server closes first: the TIME_WAIT is on the server side, so the client
                    # may reuse its source port at once (tshark: "reused ports")
                    c.shutdown(socket.SHUT_WR)
                    read_to_eof(c)
                except OSError as e:
                    print("rr-server:", i, e, file=sys.stderr)


def rr_client(host, port, count, reuse=0):
    base = 31001  # fixed source ports used for the last `reuse` connections
    for i in range(count):
        sport = None
        if i >= count - reuse:
            sport = base + (i % 3)
        try:
            with connect(host, port, sport) as c:
                c.sendall(payload(REQ))
                read_to_eof(c)
        except OSError as e:
            print("rr-client:", i, e, file=sys.stderr)
        time.sleep(0.02)


def zw_server(host, port, pause):
    with listener(host, port, rcvbuf=4096) as s:
        c, _ = s.accept()
        with c:
            c.settimeout(TIMEOUT)
            read_exact(c, 2000)
            time.sleep(pause)  # stop reading: the window closes, the sender probes
            n = 0
            while True:  # resume slowly at first, so several window updates are sent
                b = c.recv(1024)
                if not b:
                    break
                n += len(b)
                if n < 32768:
                    time.sleep(0.01)
    print("zw-server: read", n + 2000, file=sys.stderr)


def zw_client(host, port, nbytes):
    with connect(host, port) as c:
        c.sendall(payload(nbytes))
        c.shutdown(socket.SHUT_WR)
        read_to_eof(c)


def keepalive(s, idle=1, intvl=1, cnt=5):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, idle)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, intvl)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, cnt)


def ka_server(host, port):
    with listener(host, port) as s:
        c, _ = s.accept()
        with c:
            c.settimeout(TIMEOUT)
            read_exact(c, 100)
            c.sendall(payload(100))
            read_to_eof(c)


def ka_client(host, port, idle):
    with connect(host, port) as c:
        keepalive(c)
        c.sendall(payload(100))
        read_exact(c, 100)
        time.sleep(idle)  # idle: the kernel sends keep-alives every second
        c.sendall(payload(50))


def rst_server(host, port):
    with listener(host, port) as s:
        # 1: client aborts with SO_LINGER {1,0}
        c, _ = s.accept()
        with c:
            c.settimeout(TIMEOUT)
            read_exact(c, 500)
            c.sendall(payload(500))
            try:
                read_to_eof(c)
            except ConnectionResetError:
                pass
        # 2: server closes with unread data in its receive buffer -> RST carrying ACK
        c, _ = s.accept()
        with c:
            c.settimeout(TIMEOUT)
            read_exact(c, 100)
            time.sleep(0.3)  # let the rest of the client's data arrive unread
        # 3: server closes, client keeps sending -> RST from server answering data
        c, _ = s.accept()
        with c:
            c.settimeout(TIMEOUT)
            read_exact(c, 100)
            c.sendall(payload(100))
            c.shutdown(socket.SHUT_RDWR)
        time.sleep(1.0)


def rst_client(host, port, closed_port):
    # 0: connection refused (SYN -> RST,ACK)
    try:
        connect(host, closed_port).close()
    except ConnectionRefusedError:
        pass
    time.sleep(0.1)
    # 1: abortive close
    c = connect(host, port)
    c.sendall(payload(500))
    read_exact(c, 500)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
    time.sleep(0.1)
    # 2: send more than the server reads
    c = connect(host, port)
    c.sendall(payload(5000))
    try:
        read_to_eof(c)
    except ConnectionResetError:
        pass
    c.close()
    time.sleep(0.1)
    # 3: keep sending after the server closed
    c = connect(host, port)
    c.sendall(payload(100))
    read_exact(c, 100)
    time.sleep(0.2)
    try:
        for _ in range(3):
            c.send(payload(300))
            time.sleep(0.1)
    except (BrokenPipeError, ConnectionResetError):
        pass
    c.close()


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    role, host, port = argv[1], argv[2], int(argv[3])
    rest = [int(a) if a.isdigit() else float(a) for a in argv[4:]]
    roles = {
        "bulk-server": bulk_server, "bulk-client": bulk_client,
        "rr-server": rr_server, "rr-client": rr_client,
        "zw-server": zw_server, "zw-client": zw_client,
        "ka-server": ka_server, "ka-client": ka_client,
        "rst-server": rst_server, "rst-client": rst_client,
    }
    if role not in roles:
        sys.exit(__doc__)
    roles[role](host, port, *rest)


if __name__ == "__main__":
    main(sys.argv)

"""Opens N keep-alive connections to 127.0.0.1:PORT one after another, each sending one
GET /plaintext and reading its whole response, then leaves them open; prints "ready" and
waits for a line on stdin, checks that the server kept them all open, then closes them with
a reset (SO_LINGER 0) so that no TIME_WAIT piles up. Prints "alive N".
"""
import socket
import struct
import sys

port, count = int(sys.argv[1]), int(sys.argv[2])
request = b"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
conns = []
for _ in range(count):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(4096)
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        body += s.recv(4096)
    conns.append(s)
print("ready", flush=True)
sys.stdin.readline()
alive = 0
for s in conns:
    s.setblocking(False)
    try:
        alive += s.recv(1) == b"" and 0 or 1
    except BlockingIOError:
        alive += 1
    except OSError:
        pass
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
print(f"alive {alive}", flush=True)

"""Python socket and asyncio servers and clients talking over loopback inside one process tree.

Prints one deterministic line per check; the test compares the output natively and under tsvisor.
"""
import asyncio
import hashlib
import os
import selectors
import socket
import socketserver
import sys
import threading


def tcp_threaded(family, host):
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, 0))
    srv.listen(8)
    port = srv.getsockname()[1]

    def serve():
        for _ in range(3):
            c, _ = srv.accept()
            with c:
                data = b''
                while True:
                    d = c.recv(65536)
                    if not d:
                        break
                    data += d
                c.sendall(hashlib.sha256(data).hexdigest().encode())
    t = threading.Thread(target=serve)
    t.start()
    for size in (5, 100_000, 3_000_000):
        payload = os.urandom(size)
        with socket.create_connection((host, port)) as c:
            c.sendall(payload)
            c.shutdown(socket.SHUT_WR)
            got = b''
            while True:
                d = c.recv(1024)
                if not d:
                    break
                got += d
        print(f'tcp {family.name} {size}: {got.decode() == hashlib.sha256(payload).hexdigest()}')
    t.join()
    srv.close()


def udp(family, host):
    a = socket.socket(family, socket.SOCK_DGRAM)
    a.bind((host, 0))
    b = socket.socket(family, socket.SOCK_DGRAM)
    b.settimeout(10)
    for i in range(5):
        b.sendto(f'msg{i}'.encode(), a.getsockname())
    got = [a.recvfrom(100) for _ in range(5)]
    print(f'udp {family.name}:', [g[0].decode() for g in got], all(g[1][1] == b.getsockname()[1] for g in got))
    a.sendto(b'reply', got[0][1])
    print('udp reply:', b.recv(100))
    a.close()
    b.close()


def nonblocking_select():
    srv = socket.socket()
    srv.bind(('127.0.0.1', 0))
    srv.listen()
    srv.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(srv, selectors.EVENT_READ, 'accept')
    c = socket.socket()
    c.setblocking(False)
    print('connect_ex:', c.connect_ex(srv.getsockname()) in (0, 115))
    sel.register(c, selectors.EVENT_WRITE, 'client')
    seen = set()
    conn = None
    while len(seen) < 3:
        for key, ev in sel.select(timeout=10):
            if key.data == 'accept':
                conn, _ = srv.accept()
                conn.setblocking(False)
                sel.register(conn, selectors.EVENT_READ, 'server')
                seen.add('accept')
            elif key.data == 'client':
                c.send(b'select-me')
                sel.unregister(c)
                seen.add('client')
            elif key.data == 'server':
                print('server got:', conn.recv(100))
                sel.unregister(conn)
                seen.add('server')
    print('selector events:', sorted(seen), type(sel).__name__)
    for s in (c, conn, srv):
        s.close()


class Echo(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write(line.upper())


def socketserver_threading():
    with socketserver.ThreadingTCPServer(('127.0.0.1', 0), Echo) as srv:
        t = threading.Thread(target=srv.serve_forever, kwargs={'poll_interval': 0.05})
        t.start()
        outs = []
        for i in range(3):
            with socket.create_connection(srv.server_address) as c, c.makefile('rwb') as f:
                f.write(f'line {i}\n'.encode())
                f.flush()
                outs.append(f.readline().decode().strip())
        srv.shutdown()
        t.join()
        print('socketserver:', outs)


async def asyncio_streams():
    async def handle(reader, writer):
        while data := await reader.readline():
            writer.write(data.upper())
            await writer.drain()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(handle, '127.0.0.1', 0)
    port = server.sockets[0].getsockname()[1]

    async def client(i):
        r, w = await asyncio.open_connection('127.0.0.1', port)
        out = []
        for j in range(20):
            w.write(f'{i}-{j}\n'.encode())
            await w.drain()
            out.append((await r.readline()).decode())
        w.close()
        await w.wait_closed()
        return out[-1].strip()

    res = await asyncio.gather(*(client(i) for i in range(10)))
    print('asyncio streams:', res)
    server.close()
    await server.wait_closed()


async def asyncio_udp():
    loop = asyncio.get_running_loop()
    got = loop.create_future()

    class Server(asyncio.DatagramProtocol):
        def connection_made(self, transport):
            self.t = transport

        def datagram_received(self, data, addr):
            self.t.sendto(data.upper(), addr)

    class Client(asyncio.DatagramProtocol):
        def datagram_received(self, data, addr):
            got.set_result(data)

    st, _ = await loop.create_datagram_endpoint(Server, local_addr=('127.0.0.1', 0))
    ct, _ = await loop.create_datagram_endpoint(Client, remote_addr=st.get_extra_info('sockname'))
    ct.sendto(b'datagram')
    print('asyncio udp:', await asyncio.wait_for(got, 10))
    ct.close()
    st.close()


async def asyncio_sock_api():
    loop = asyncio.get_running_loop()
    srv = socket.socket()
    srv.bind(('127.0.0.1', 0))
    srv.listen()
    srv.setblocking(False)
    c = socket.socket()
    c.setblocking(False)
    await loop.sock_connect(c, srv.getsockname())
    s, _ = await loop.sock_accept(srv)
    await loop.sock_sendall(c, b'x' * 200_000)
    total = 0
    while total < 200_000:
        total += len(await loop.sock_recv(s, 65536))
    print('asyncio sock api:', total)
    for x in (c, s, srv):
        x.close()


def source_address():
    """What CPython's testSourceAddress checks (without its cleanup race): create_connection binds first."""
    srv = socket.socket()
    srv.bind(('127.0.0.1', 0))
    srv.listen()
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        src = probe.getsockname()[1]
    ok = []
    for _ in range(20):
        with socket.create_connection(srv.getsockname(), timeout=10, source_address=('', src)) as c:
            conn, peer = srv.accept()
            ok.append(c.getsockname()[1] == src and peer[1] == src)
            conn.close()  # the server closes first: its side, not the source port, waits in TIME_WAIT
    print('create_connection source_address:', all(ok))
    srv.close()


def misc():
    print('getaddrinfo localhost:', sorted({ai[4][0] for ai in socket.getaddrinfo('localhost', 80, socket.AF_INET, socket.SOCK_STREAM)}))
    print('gethostbyname:', socket.gethostbyname('127.0.0.1'))
    a, b = socket.socketpair()
    a.sendall(b'pair')
    print('socketpair:', b.recv(10))
    s = socket.socket()
    print('timeout connect refused:', s.connect_ex(('127.0.0.1', 1)) == 111)
    names = [n for _, n in socket.if_nameindex()]
    print('if_nameindex has lo:', 'lo' in names)


def main():
    tcp_threaded(socket.AF_INET, '127.0.0.1')
    if socket.has_ipv6 and '::1' in open('/proc/net/if_inet6').read().replace('00000000000000000000000000000001', '::1'):
        tcp_threaded(socket.AF_INET6, '::1')
        udp(socket.AF_INET6, '::1')
    udp(socket.AF_INET, '127.0.0.1')
    nonblocking_select()
    socketserver_threading()
    asyncio.run(asyncio_streams())
    asyncio.run(asyncio_udp())
    asyncio.run(asyncio_sock_api())
    source_address()
    misc()
    print('done')
    sys.stdout.flush()


main()

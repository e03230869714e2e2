// A TCP echo server on 127.0.0.1 (an ephemeral port): every byte comes back; for stream tests.
import { once } from 'node:events';
import { type AddressInfo, createServer, type Server } from 'node:net';

export async function startEchoServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((sock) => {
    sock.on('error', () => {});
    sock.pipe(sock);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

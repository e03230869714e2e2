// The SOCKS4/4a/5 listener: node:net, one SocksSession per connection, a cap on connections.
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../log/logger.ts';
import { DEFAULT_ISOLATION_KEY } from './isolation.ts';
import { checkListenAddress, closeServer, type ListenAddress, listen } from './listen.ts';
import { SocksSession } from './socks-session.ts';
import type { StreamOpener } from './stream-opener.ts';

export interface SocksServerOptions {
  readonly host: string;
  /** 0: any free port (the bound one is in `address`). */
  readonly port: number;
  /** From accept to a decoded request. */
  readonly handshakeTimeoutMs: number;
  /** From a decoded request to an open stream (the opener's own deadlines may be shorter). */
  readonly openTimeoutMs: number;
  /** Connections at once, open streams included; more are closed at accept. */
  readonly maxConnections: number;
  /** The isolation key of clients that present no credentials. */
  readonly defaultIsolationKey: string;
  /** Bytes accepted before the request is answered; more and the connection is refused. */
  readonly maxBufferedBytes: number;
}

export const defaultSocksServerOptions: SocksServerOptions = {
  host: '127.0.0.1',
  port: 9050,
  handshakeTimeoutMs: 10_000,
  openTimeoutMs: 120_000,
  maxConnections: 1024,
  defaultIsolationKey: DEFAULT_ISOLATION_KEY,
  maxBufferedBytes: 4096,
};

export interface SocksServerDeps {
  readonly opener: StreamOpener;
  readonly log?: Logger | undefined;
}

export interface SocksServer {
  readonly address: ListenAddress;
  /** Connections now open. */
  readonly connections: number;
  /** Stops listening and destroys every connection. */
  close(): Promise<void>;
}

export async function startSocksServer(
  options: Partial<SocksServerOptions>,
  deps: SocksServerDeps,
): Promise<SocksServer> {
  const opts: SocksServerOptions = { ...defaultSocksServerOptions, ...options };
  checkListenAddress('SOCKS proxy', opts);
  const sockets = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true, noDelay: true });
  server.maxConnections = opts.maxConnections;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    new SocksSession(socket, opts, deps);
  });
  server.on('drop', () => deps.log?.warn('socks: connection limit reached, connection dropped'));
  const address = await listen(server, 'SOCKS proxy', opts);
  server.on('error', (err) => deps.log?.warn({ err: err.message }, 'socks: listener error'));
  deps.log?.info({ port: address.port }, 'socks: listening');
  return {
    address,
    get connections() {
      return sockets.size;
    },
    async close() {
      const closed = closeServer(server);
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

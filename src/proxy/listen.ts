// Binding a node:net or node:http server, with a ProxyError naming the address on failure.
import type { Server } from 'node:net';
import { ProxyError } from './errors.ts';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export function checkListenAddress(what: string, a: ListenAddress): void {
  if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65535) {
    throw new ProxyError('BAD_OPTIONS', `${what}: port ${a.port} is not 0..65535`);
  }
  if (typeof a.host !== 'string' || a.host.length === 0)
    throw new ProxyError('BAD_OPTIONS', `${what}: no host`);
}

/** Listens and resolves with the address really bound (port 0 → the port the system chose). */
export function listen(server: Server, what: string, a: ListenAddress): Promise<ListenAddress> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      server.off('listening', onListening);
      const code = (err as NodeJS.ErrnoException).code ?? err.message;
      reject(
        new ProxyError('LISTEN_FAILED', `${what} cannot listen on ${a.host}:${a.port}: ${code}`, {
          cause: err,
        }),
      );
    };
    const onListening = (): void => {
      server.off('error', onError);
      const bound = server.address();
      if (bound === null || typeof bound === 'string') resolve(a);
      else resolve({ host: bound.address, port: bound.port });
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host: a.host, port: a.port, exclusive: true });
  });
}

/** Stops accepting and waits for the listener to close (connections are the caller's to end). */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
  });
}

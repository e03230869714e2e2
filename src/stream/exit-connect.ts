// One outgoing TCP connection for the exit, with a deadline and an AbortSignal: a connect whose circuit
// died or whose stream the client ended is destroyed at once, whatever state it is in, so no socket
// outlives the circuit that asked for it.
import { type Socket, connect as tcpConnect } from 'node:net';
import { CodedError } from '../wire/coded-error.ts';

export class ConnectError extends CodedError<string> {
  override readonly name = 'ConnectError';
}

export function connectTcp(
  ip: string,
  port: number,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<Socket> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: ip, port, allowHalfOpen: true });
    const finish = (err: unknown) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.removeListener('connect', onConnect);
      socket.removeListener('error', onError);
      if (err === undefined) return resolve(socket);
      socket.destroy();
      reject(err);
    };
    const onConnect = () => finish(undefined);
    const onError = (err: NodeJS.ErrnoException) => finish(new ConnectError(err.code ?? 'EIO', err.message));
    const onAbort = () => finish(signal.reason);
    const timer = setTimeout(() => finish(new ConnectError('ETIMEDOUT', 'connect timeout')), timeoutMs);
    socket.once('connect', onConnect);
    socket.once('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

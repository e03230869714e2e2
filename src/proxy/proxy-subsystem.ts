// The local proxies (SOCKS5 and HTTP) that carry applications' connections over this node's circuits.
import type { CircuitManager } from '../circuit/circuit-manager.ts';
import type { Logger } from '../log/logger.ts';
import { circuitOpener } from './circuit-opener.ts';
import { startProxies } from './index.ts';
import type { ListenAddress } from './listen.ts';

export interface ProxyOptions {
  readonly host: string;
  /** null: no SOCKS proxy; 0 picks a free port. */
  readonly socksPort: number | null;
  /** null: no HTTP proxy. */
  readonly httpPort: number | null;
}

/** The part of the node status the proxies own: where they listen ("host:port"). */
export interface ProxyStatus {
  readonly socks: string | undefined;
  readonly http: string | undefined;
}

export interface ProxySubsystem {
  /** Whether any proxy runs (then the client keeps circuits ready). */
  readonly enabled: boolean;
  status(): ProxyStatus;
  stop(): Promise<void>;
}

const hostPort = (a: ListenAddress | undefined) => (a ? `${a.host}:${a.port}` : undefined);

export async function createProxies(
  opts: ProxyOptions,
  deps: { readonly log: Logger; readonly circuits: CircuitManager },
): Promise<ProxySubsystem> {
  const proxies = await startProxies({
    ...(opts.socksPort !== null ? { socks: { host: opts.host, port: opts.socksPort } } : {}),
    ...(opts.httpPort !== null ? { http: { host: opts.host, port: opts.httpPort } } : {}),
    opener: circuitOpener(deps.circuits),
    log: deps.log,
  });
  return {
    enabled: opts.socksPort !== null || opts.httpPort !== null,
    status: () => ({ socks: hostPort(proxies.socksAddress), http: hostPort(proxies.httpAddress) }),
    stop: () => proxies.close(),
  };
}

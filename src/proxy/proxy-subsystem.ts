// The local proxies (SOCKS5 and HTTP) that carry applications' connections over this node's circuits.
import type { CircuitManager } from '../circuit/circuit-manager.ts';
import type { Logger } from '../log/logger.ts';
import { circuitOpener } from './circuit-opener.ts';
import { type ProxiesOptions, startProxies } from './index.ts';
import type { ListenAddress } from './listen.ts';

/** Each proxy's listen address and limits; a proxy left out does not run. */
export type ProxyOptions = Pick<ProxiesOptions, 'socks' | 'http'>;

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
    ...opts,
    opener: circuitOpener(deps.circuits),
    log: deps.log,
  });
  return {
    enabled: opts.socks !== undefined || opts.http !== undefined,
    status: () => ({ socks: hostPort(proxies.socksAddress), http: hostPort(proxies.httpAddress) }),
    stop: () => proxies.close(),
  };
}

// The client-side proxies of AnonNet: SOCKS4/4a/5 and HTTP, over any StreamOpener.
import type { Logger } from '../log/logger.ts';
import { type HttpProxy, type HttpProxyOptions, startHttpProxy } from './http-proxy.ts';
import type { ListenAddress } from './listen.ts';
import { type SocksServer, type SocksServerOptions, startSocksServer } from './socks-server.ts';
import type { StreamOpener } from './stream-opener.ts';

export { ProxyError, type ProxyErrorCode } from './errors.ts';
export {
  defaultHttpProxyOptions,
  type HttpProxy,
  type HttpProxyOptions,
  startHttpProxy,
} from './http-proxy.ts';
export { DEFAULT_ISOLATION_KEY } from './isolation.ts';
export type { ListenAddress } from './listen.ts';
export {
  defaultSocksServerOptions,
  type SocksServer,
  type SocksServerOptions,
  startSocksServer,
} from './socks-server.ts';
export {
  type OpenOptions,
  type StreamErrorCode,
  StreamOpenError,
  type StreamOpener,
  type StreamTarget,
} from './stream-opener.ts';

export interface ProxiesOptions {
  /** Omitted: no SOCKS proxy. `host` defaults to 127.0.0.1; port 0 picks a free port. */
  readonly socks?: Partial<SocksServerOptions> & { readonly port: number };
  /** Omitted: no HTTP proxy. */
  readonly http?: Partial<HttpProxyOptions> & { readonly port: number };
  readonly opener: StreamOpener;
  readonly log?: Logger;
}

export interface Proxies {
  readonly socksAddress?: ListenAddress;
  readonly httpAddress?: ListenAddress;
  /** Stops both proxies and ends every connection through them. */
  close(): Promise<void>;
}

/** Starts the proxies asked for; if one cannot listen, none is left running (ProxyError LISTEN_FAILED). */
export async function startProxies(opts: ProxiesOptions): Promise<Proxies> {
  const deps = { opener: opts.opener, log: opts.log };
  let socks: SocksServer | undefined;
  let http: HttpProxy | undefined;
  try {
    if (opts.socks !== undefined) socks = await startSocksServer(opts.socks, deps);
    if (opts.http !== undefined) http = await startHttpProxy(opts.http, deps);
  } catch (err) {
    await socks?.close();
    throw err;
  }
  return {
    ...(socks !== undefined ? { socksAddress: socks.address } : {}),
    ...(http !== undefined ? { httpAddress: http.address } : {}),
    async close() {
      await Promise.all([socks?.close(), http?.close()]);
    },
  };
}

// Config sections whose shape is not their subsystem's own, turned into the subsystem's options.
import type { ChannelLimits } from '../circuit/channel-limits.ts';
import type { ProxiesOptions } from '../proxy/index.ts';
import type { NodeConfig } from './schema.ts';

/** The file counts the channels' memory bound in MiB, the channels in bytes. */
export function channelLimitsOf(c: NodeConfig['channels']): ChannelLimits {
  const { maxQueuedMiB, ...rest } = c;
  return { ...rest, maxQueuedBytes: maxQueuedMiB * 1024 * 1024 };
}

/** One `proxy` section for both proxies; a null port leaves that proxy out. */
export function proxiesOptionsOf(p: NodeConfig['proxy']): Pick<ProxiesOptions, 'socks' | 'http'> {
  const shared = {
    host: p.host,
    maxConnections: p.maxConnections,
    handshakeTimeoutMs: p.handshakeTimeoutMs,
    openTimeoutMs: p.openTimeoutMs,
  };
  return {
    ...(p.socksPort !== null ? { socks: { ...shared, port: p.socksPort } } : {}),
    ...(p.httpPort !== null ? { http: { ...shared, port: p.httpPort } } : {}),
  };
}

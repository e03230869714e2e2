// The config file's `channels` section as the channels' own limits (src/circuit/channel-limits.ts):
// the file counts the memory bound in MiB, the channels in bytes.
import type { ChannelLimits } from '../circuit/channel-limits.ts';
import type { NodeConfig } from './schema.ts';

export function channelLimitsOf(c: NodeConfig['channels']): ChannelLimits {
  const { maxQueuedMiB, ...rest } = c;
  return { ...rest, maxQueuedBytes: maxQueuedMiB * 1024 * 1024 };
}

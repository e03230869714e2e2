// The genesis document of a local testnet: nodes 1..count are the first validators (node 0 is the client,
// which validates nothing). Their identities are created here (the daemons load them), so the document
// is the same on every rerun of one testnet.
import { join } from 'node:path';
import { files, prepareDataDir } from '../daemon/data-dir.ts';
import { loadOrCreateIdentity } from '../daemon/identity-file.ts';
import { encodeGenesis } from '../ledger/genesis.ts';
import { nodeDir } from '../testnet/supervisor.ts';

export const TESTNET_CHAIN_ID = 'anonnet-testnet';

/**
 * A loopback testnet moves hundreds of MiB/s between its nodes: an unmeasured relay may claim (and weigh)
 * as much as 64 MiB/s here, where a real network's default is 1 MiB/s (docs/economy.md).
 */
export const TESTNET_UNMEASURED_BANDWIDTH = 64 * 1024 * 1024;

export async function testnetGenesis(
  root: string,
  count: number,
  powDifficulty: number,
  blockIntervalMs: number,
  epochLength = 100,
): Promise<string> {
  const validators: Uint8Array[] = [];
  for (let i = 1; i <= count; i++) {
    const dir = nodeDir(root, i);
    prepareDataDir(dir);
    const { identity } = await loadOrCreateIdentity(join(dir, files.identity), powDifficulty);
    validators.push(identity.publicKey);
  }
  return encodeGenesis({
    chainId: TESTNET_CHAIN_ID,
    params: {
      blockIntervalMs,
      validatorCount: count,
      powDifficulty,
      epochLength,
      unmeasuredBandwidth: TESTNET_UNMEASURED_BANDWIDTH,
    },
    validators,
  });
}

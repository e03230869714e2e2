// Builds the daemon's ledger when a genesis document is configured: the network protocol, the block
// store in the data directory and the driver. A bad genesis file stops the daemon at start with the
// reason, never later.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Libp2p } from '@libp2p/interface';
import type { Identity } from '../crypto/identity.ts';
import { GenesisError, parseGenesis } from '../ledger/genesis.ts';
import type { Logger } from '../log/logger.ts';
import { defaultTimeouts } from './engine.ts';
import type { LedgerLimits } from './ledger-limits.ts';
import { LedgerNode, type LedgerNodeStatus } from './ledger-node.ts';
import { LedgerNet } from './net/ledger-net.ts';

export const LEDGER_FILES = { store: 'ledger.sqlite', signState: 'sign-state.json' } as const;

export interface LedgerDeps {
  readonly host: Libp2p;
  readonly identity: Identity;
  readonly log: Logger;
  readonly now: () => number;
  readonly dir: string;
}

/**
 * What the ledger reads of the node's config: the `ledger` section of config/schema.ts (whose defaults
 * come from ledger-limits.ts and net/), written out here because consensus/ sits below config/
 * (DESIGN.md, Layers); node.ts passes the whole NodeConfig.
 */
export interface LedgerConfig {
  readonly ledger: {
    readonly genesis: string | null;
    readonly timeoutProposeMs: number;
    readonly timeoutDeltaMs: number;
    readonly mempool: LedgerLimits['mempool'];
    readonly heightClaims: LedgerLimits['heights'];
    readonly relay: LedgerLimits['relay'];
    readonly peerLimits: {
      readonly framesPerSecond: number;
      readonly bytesPerSecond: number;
      readonly totalFramesPerSecond: number;
      readonly totalBytesPerSecond: number;
      readonly burstSeconds: number;
      readonly syncAnswersPerSecond: number;
      readonly totalSyncAnswersPerSecond: number;
      readonly syncBytesPerSecond: number;
      readonly totalSyncBytesPerSecond: number;
      readonly syncBurstSeconds: number;
      readonly maxSyncAnswerBytes: number;
    };
  };
}

export async function startLedger(config: LedgerConfig, deps: LedgerDeps): Promise<LedgerNode | undefined> {
  const path = config.ledger.genesis;
  if (path === null) return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new GenesisError(`cannot read the genesis file ${path}: ${(err as Error).message}`);
  }
  const genesis = parseGenesis(text);
  const peer = config.ledger.peerLimits;
  const net = new LedgerNet(deps.host, {
    peerLimits: {
      framesPerSecond: peer.framesPerSecond,
      bytesPerSecond: peer.bytesPerSecond,
      totalFramesPerSecond: peer.totalFramesPerSecond,
      totalBytesPerSecond: peer.totalBytesPerSecond,
      burstSeconds: peer.burstSeconds,
    },
    now: deps.now,
  });
  await net.start();
  const base = config.ledger.timeoutProposeMs;
  let node: LedgerNode;
  try {
    node = new LedgerNode({
      genesis,
      storePath: join(deps.dir, LEDGER_FILES.store),
      signStatePath: join(deps.dir, LEDGER_FILES.signState),
      identity: deps.identity,
      net,
      log: deps.log,
      now: deps.now,
      limits: {
        mempool: config.ledger.mempool,
        heights: config.ledger.heightClaims,
        sync: {
          answersPerSecond: peer.syncAnswersPerSecond,
          totalAnswersPerSecond: peer.totalSyncAnswersPerSecond,
          bytesPerSecond: peer.syncBytesPerSecond,
          totalBytesPerSecond: peer.totalSyncBytesPerSecond,
          burstSeconds: peer.syncBurstSeconds,
          maxAnswerBytes: peer.maxSyncAnswerBytes,
        },
        relay: config.ledger.relay,
      },
      timeouts: {
        ...defaultTimeouts,
        proposeMs: base,
        prevoteMs: Math.max(1, Math.round(base / 3)),
        precommitMs: Math.max(1, Math.round(base / 3)),
        deltaMs: config.ledger.timeoutDeltaMs,
      },
    });
  } catch (err) {
    await net.stop();
    throw err;
  }
  return node;
}

export function ledgerStatus(node: LedgerNode): LedgerNodeStatus {
  return node.status();
}

// The ledger, when a genesis document is configured (start-ledger.ts builds it): each committed block
// is counted in the metrics and announced on the daemon's event feed.
import type { Metrics } from '../metrics/registry.ts';
import type { LedgerNode, LedgerNodeStatus } from './ledger-node.ts';
import { type LedgerDeps, startLedger } from './start-ledger.ts';

/** Where committed blocks are announced (the control API's event feed). */
export interface BlockFeed {
  publish(event: {
    case: 'blockCommitted';
    value: { height: bigint; hash: string; transactions: number };
  }): void;
}

export interface LedgerSubsystemDeps extends Omit<LedgerDeps, 'identity' | 'dir'> {
  readonly keys: { readonly identity: LedgerDeps['identity'] };
  readonly dataDir: string;
  readonly metrics: Pick<Metrics, 'ledger'>;
  readonly blocks: BlockFeed;
}

export interface LedgerSubsystem {
  /** undefined on a node without a ledger. */
  readonly node: LedgerNode | undefined;
  /** The part of the node status the ledger owns (absent without a ledger). */
  status(): { readonly ledger?: LedgerNodeStatus };
  stop(): void;
}

export async function createLedger(
  opts: Parameters<typeof startLedger>[0],
  deps: LedgerSubsystemDeps,
): Promise<LedgerSubsystem> {
  const node = await startLedger(opts, { ...deps, identity: deps.keys.identity, dir: deps.dataDir });
  if (node === undefined) return { node, status: () => ({}), stop: () => {} };
  node.onCommit((e) => {
    deps.metrics.ledger.observeBlock(e.height, e.intervalSeconds);
    deps.blocks.publish({
      case: 'blockCommitted',
      value: { height: BigInt(e.height), hash: Buffer.from(e.hash).toString('hex'), transactions: e.txs },
    });
  });
  node.start();
  return { node, status: () => ({ ledger: node.status() }), stop: () => node.stop() };
}

// The node's wallet (wallet-file.ts): loaded or made at start; when the node follows a ledger, the proof
// of work its start-grant claim needs is solved in the background at the ledger's difficulty, so that
// `anonnet ledger claim` does not wait for it. The key is never logged; only this node's own status
// (status.json, the local API) shows the account.
import { join } from 'node:path';
import type { Logger } from '../log/logger.ts';
import { files } from './data-dir.ts';
import { loadOrCreateWallet, solveWalletPow, type Wallet } from './wallet-file.ts';

export interface WalletOptions {
  readonly dataDir: string;
}

export interface WalletDeps {
  readonly log: Logger;
  /** The ledger's proof-of-work difficulty; undefined on a node without a ledger (nothing to solve). */
  readonly powDifficulty: number | undefined;
}

/** The part of the node status the wallet owns. */
export interface WalletStatus {
  /** The wallet's account: its public key, 64 hex digits. */
  readonly wallet: string;
}

export interface WalletSubsystem {
  /** The account key (32 bytes): the default payout account of a relay. */
  readonly publicKey: Uint8Array;
  status(): WalletStatus;
  start(): void;
  stop(): Promise<void>;
}

export function createWallet(opts: WalletOptions, deps: WalletDeps): WalletSubsystem {
  const path = join(opts.dataDir, files.wallet);
  const loaded = loadOrCreateWallet(path);
  if (loaded.created) deps.log.info('created a new wallet');
  let wallet: Wallet = loaded;
  const abort = new AbortController();
  let solving: Promise<void> | undefined;
  const account = Buffer.from(wallet.key.publicKey).toString('hex');
  return {
    publicKey: wallet.key.publicKey,
    status: () => ({ wallet: account }),
    start: () => {
      const difficulty = deps.powDifficulty;
      if (difficulty === undefined || (wallet.pow !== undefined && wallet.pow.difficulty >= difficulty))
        return;
      solving = solveWalletPow(path, wallet, difficulty, abort.signal).then(
        (solved) => {
          wallet = solved;
          deps.log.info({ difficulty }, "the wallet's proof of work for its start-grant claim is ready");
        },
        (err: unknown) => {
          if (!abort.signal.aborted)
            deps.log.warn({ err: (err as Error).message }, "could not solve the wallet's proof of work");
        },
      );
    },
    stop: async () => {
      abort.abort();
      await solving;
    },
  };
}

// A relay's side of proof of relay (docs/economy.md, "Claims" and "Audits"): when the ledger passes
// into a new epoch, it claims the previous one from the receipts it kept (once, in the first half of the
// epoch), keeps the claim's tree (in memory and in DATA_DIR/economy/) to answer the validators' audits,
// and forgets it once the ledger has settled the claim.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PeerId } from '@libp2p/interface';
import { MerkleSumTree } from '../crypto/merkle-sum.ts';
import { epochAt, validatorsForHeight } from '../ledger/epochs.ts';
import { keyHex, type LedgerState } from '../ledger/state.ts';
import type { Logger } from '../log/logger.ts';
import type { AuditRequest, AuditResponse } from '../wire/audit-msg.ts';
import { bytesEqual } from '../wire/bytes.ts';
import { answerAudit, type BuiltClaim, buildClaim } from './claim.ts';
import type { IdentityTxs } from './identity-txs.ts';
import type { ReceiptBook } from './receipt-book.ts';

/** TEST ONLY: a lying relay's claims (economy-subsystem.ts INFLATE_ENV). */
export interface ClaimInflation {
  readonly percent: number;
  /** True once this relay is the liar (it checks its trigger each time it claims). */
  armed(): boolean;
}

/** Claims sent for one epoch at most (a refusal, a timeout: retried while the window is open). */
const MAX_CLAIM_TRIES = 3;

export interface ClaimerStats {
  claimsSubmitted: number;
  claimsRefused: number;
  auditsAnswered: number;
  auditsRefused: number;
}

export class Claimer {
  readonly #own: Uint8Array;
  readonly #book: ReceiptBook;
  readonly #txs: IdentityTxs;
  readonly #dir: string;
  readonly #log: Logger;
  /** epoch → the claim kept for its audits. */
  readonly #claims = new Map<number, BuiltClaim[]>();
  /** Epochs whose claim is committed (no more tries). */
  readonly #committed = new Set<number>();
  #claiming: number | undefined;
  /** Claim attempts per epoch (a refused one is tried again, a few times). */
  readonly #tries = new Map<number, number>();
  /** The last claim's outcome, for the status. */
  last: { epoch: number; cells: bigint; leaves: number; outcome: string } | undefined;
  readonly stats: ClaimerStats = {
    claimsSubmitted: 0,
    claimsRefused: 0,
    auditsAnswered: 0,
    auditsRefused: 0,
  };

  /** TEST ONLY (ANONNET_TEST_INFLATE_CLAIMS): claims more cells than the receipts hold, once armed. */
  readonly #inflate: ClaimInflation | undefined;

  constructor(
    own: Uint8Array,
    book: ReceiptBook,
    txs: IdentityTxs,
    dir: string,
    log: Logger,
    inflate?: ClaimInflation,
  ) {
    this.#inflate = inflate;
    this.#own = own;
    this.#book = book;
    this.#txs = txs;
    this.#dir = dir;
    this.#log = log;
  }

  /** Called after every committed block. */
  onState(state: LedgerState, signal: AbortSignal): void {
    const next = state.height + 1;
    const now = epochAt(state, next);
    if (now === undefined || now.epoch === 0) return;
    const target = now.epoch - 1;
    // Settled claims (the ledger cleared them) are forgotten, with their receipts.
    for (const e of this.#claims.keys()) {
      if (e >= target) continue;
      this.#claims.delete(e);
      rmSync(this.#file(e), { force: true });
    }
    for (const e of this.#committed) if (e < target) this.#committed.delete(e);
    for (const e of this.#tries.keys()) if (e < target) this.#tries.delete(e);
    this.#book.dropBefore(target);
    const me = keyHex(this.#own);
    const reg = state.relays.get(me);
    if (reg === undefined || reg.bond === 0n) return;
    if (this.#committed.has(target) || this.#claiming === target) return;
    if (state.economy.claims.get(me)?.epoch === target) return;
    if (next >= now.startHeight + Math.ceil(now.length / 2)) return;
    const receipts = this.#book.receipts(target);
    if (receipts.length === 0) return;
    const honest = buildClaim(this.#own, target, receipts);
    const built = this.#inflate?.armed() === true ? inflated(honest, this.#inflate.percent) : honest;
    const tries = (this.#tries.get(target) ?? 0) + 1;
    if (tries > MAX_CLAIM_TRIES) return;
    this.#tries.set(target, tries);
    this.#claiming = target;
    // Every tree sent is kept until settlement: a try that timed out may still commit, and audits are
    // answered from the tree whose root the ledger holds.
    this.#claims.set(target, [...(this.#claims.get(target) ?? []), built]);
    this.#save(target, built);
    const { cells, leaves, root } = built.claim;
    void this.#txs.send({ kind: 'RELAY_CLAIM', epoch: target, cells, leaves, root }, signal).then(
      (r) => {
        this.#claiming = undefined;
        if (r.ok) {
          this.stats.claimsSubmitted++;
          this.#committed.add(target);
        } else {
          // Not on the ledger (yet): tried again at a later block while the claim window is open.
          this.stats.claimsRefused++;
        }
        this.last = { epoch: target, cells, leaves, outcome: r.ok ? 'committed' : r.code };
        this.#log.info(
          { epoch: target, cells: Number(cells), leaves, outcome: this.last.outcome },
          'relay claim',
        );
      },
      () => {
        this.#claiming = undefined;
      },
    );
  }

  /** Answers a validator's audit of one of our claims. */
  answer(state: LedgerState, from: PeerId, req: AuditRequest): AuditResponse | 'none' | 'refused' {
    const key = from.type === 'Ed25519' ? from.publicKey.raw : undefined;
    const validators = validatorsForHeight(state, state.height + 1) ?? [];
    if (key === undefined || !validators.some((v) => bytesEqual(v, key))) {
      this.stats.auditsRefused++;
      return 'refused';
    }
    const onLedger = state.economy.claims.get(keyHex(this.#own));
    const claim =
      onLedger === undefined || onLedger.epoch !== req.epoch
        ? undefined
        : this.#claims.get(req.epoch)?.find((c) => bytesEqual(c.claim.root, onLedger.root));
    if (claim === undefined) return 'none';
    try {
      const answer = answerAudit(claim, req.positions);
      this.stats.auditsAnswered++;
      return answer;
    } catch {
      this.stats.auditsRefused++;
      return 'refused';
    }
  }

  #file(epoch: number): string {
    return join(this.#dir, `receipts-${epoch}.bin`);
  }

  /** The receipts behind a claim, on disk (one 153-byte receipt after another, in leaf order). */
  #save(epoch: number, built: BuiltClaim): void {
    try {
      mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
      writeFileSync(this.#file(epoch), Buffer.concat(built.receipts), { mode: 0o600 });
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'could not save the receipts of a claim');
    }
  }
}

/**
 * TEST ONLY: the same leaves with every leaf's value raised by `percent` (the receipts unchanged), as a
 * relay that lies about its work would build them. Audits catch it: a leaf's value is its receipt's cells.
 */
function inflated(built: BuiltClaim, percent: number): BuiltClaim {
  if (percent <= 0) return built;
  const leaves = built.receipts.map((_bytes, i) => {
    const leaf = built.tree.leaf(i);
    const extra = (leaf.sum * BigInt(Math.round(percent))) / 100n;
    return { ...leaf, sum: leaf.sum + (extra > 0n ? extra : 1n) };
  });
  const tree = MerkleSumTree.build(leaves);
  return {
    tree,
    receipts: built.receipts,
    claim: { ...built.claim, cells: tree.root.sum, root: tree.root.hash },
  };
}

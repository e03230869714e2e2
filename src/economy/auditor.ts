// A validator's audits (docs/economy.md, "Audits"): every claim open on the ledger is audited once by
// every validator: it asks the relay for the sampled leaves, checks them, and on a failed check, or no
// good answer by three quarters of the epoch, sends AUDIT_FAIL. Passing claims need no transaction.

import { publicKeyFromRaw } from '@libp2p/crypto/keys';
import type { Libp2p } from '@libp2p/interface';
import { peerIdFromPublicKey } from '@libp2p/peer-id';
import { epochAt, validatorsForHeight } from '../ledger/epochs.ts';
import { hexKey, type KeyHex, keyHex, type LedgerState } from '../ledger/state.ts';
import type { Logger } from '../log/logger.ts';
import { bytesEqual } from '../wire/bytes.ts';
import { checkAuditAnswer, samplePositions } from './audit.ts';
import { fetchAudit } from './audit-protocol.ts';
import type { IdentityTxs } from './identity-txs.ts';

/** AUDIT_FAIL reason byte: the answer failed a check, or no answer came. */
export const AUDIT_FAIL_REASON = { CHECK_FAILED: 1, NO_ANSWER: 2 } as const;

export interface AuditorStats {
  audited: number;
  passed: number;
  failed: number;
  unanswered: number;
}

const RETRY_MS = 3_000;

export class Auditor {
  readonly #host: Libp2p;
  readonly #own: Uint8Array;
  readonly #txs: IdentityTxs;
  readonly #log: Logger;
  /** `${relay}:${epoch}` → done, or the time of the last failed try. */
  readonly #done = new Set<string>();
  readonly #tried = new Map<string, number>();
  readonly #running = new Set<string>();
  readonly stats: AuditorStats = { audited: 0, passed: 0, failed: 0, unanswered: 0 };

  constructor(host: Libp2p, own: Uint8Array, txs: IdentityTxs, log: Logger) {
    this.#host = host;
    this.#own = own;
    this.#txs = txs;
    this.#log = log;
  }

  /** Called after every committed block. */
  onState(state: LedgerState, signal: AbortSignal): void {
    const next = state.height + 1;
    const validators = validatorsForHeight(state, next) ?? [];
    if (!validators.some((v) => bytesEqual(v, this.#own))) return;
    const now = epochAt(state, next);
    if (now === undefined) return;
    const giveUp = next >= now.startHeight + Math.floor((3 * now.length) / 4);
    const self = keyHex(this.#own);
    for (const [relay, claim] of state.economy.claims) {
      // Our own claim is audited by the other validators: a relay vouching for itself proves nothing.
      if (relay === self) continue;
      const key = `${relay}:${claim.epoch}`;
      if (this.#done.has(key) || this.#running.has(key)) continue;
      if (Date.now() - (this.#tried.get(key) ?? 0) < RETRY_MS && !giveUp) continue;
      this.#running.add(key);
      void this.#audit(state, relay, key, giveUp, signal).finally(() => this.#running.delete(key));
    }
    for (const key of this.#done)
      if (!state.economy.claims.has(key.split(':')[0] as KeyHex)) this.#done.delete(key);
  }

  async #audit(
    state: LedgerState,
    relay: KeyHex,
    key: string,
    giveUp: boolean,
    signal: AbortSignal,
  ): Promise<void> {
    const claim = state.economy.claims.get(relay);
    if (claim === undefined) return;
    const positions = samplePositions(claim.txId, claim.cells, state.params.auditSamples);
    let verdict: 'pass' | 'fail' | 'retry';
    let reason = '';
    try {
      const peer = peerIdFromPublicKey(publicKeyFromRaw(hexKey(relay)));
      const answer = await fetchAudit(
        this.#host,
        peer,
        { epoch: claim.epoch, positions },
        AbortSignal.any([signal, AbortSignal.timeout(10_000)]),
      );
      const checked = checkAuditAnswer(
        {
          relayKey: hexKey(relay),
          epoch: claim.epoch,
          cells: claim.cells,
          leaves: claim.leaves,
          root: claim.root,
        },
        positions,
        answer,
      );
      verdict = checked.ok ? 'pass' : 'fail';
      if (!checked.ok) reason = checked.reason;
    } catch (err) {
      verdict = giveUp ? 'fail' : 'retry';
      reason = `no answer: ${(err as Error).message}`;
    }
    if (verdict === 'retry') {
      this.#tried.set(key, Date.now());
      return;
    }
    this.#done.add(key);
    this.stats.audited++;
    if (verdict === 'pass') {
      this.stats.passed++;
      return;
    }
    if (reason.startsWith('no answer')) this.stats.unanswered++;
    else this.stats.failed++;
    // The relay is public; its key in a debug line names no user.
    this.#log.info({ epoch: claim.epoch, reason: reason.split(':')[0] }, 'relay claim failed its audit');
    this.#log.debug({ relay, reason }, 'audit failure');
    const code = reason.startsWith('no answer')
      ? AUDIT_FAIL_REASON.NO_ANSWER
      : AUDIT_FAIL_REASON.CHECK_FAILED;
    await this.#txs.send(
      { kind: 'AUDIT_FAIL', relay: hexKey(relay), epoch: claim.epoch, reason: code },
      signal,
    );
  }
}

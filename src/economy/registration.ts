// A relay registers itself on the ledger: its node identity claims the start grant (CLAIM_GENESIS with
// the identity's proof of work), sends REGISTER_RELAY naming its payout account and locking the bond,
// sends it again when what it registered changes (an onion key rotated, the roles, bandwidth claim or
// payout changed at a restart, a penalty took the bond), and with the validator role stands as a
// candidate once (docs/economy.md, "Roles and keys").
//
// One step at a time, from the committed state (registration-plan.ts says which), through the node
// identity's one transaction queue (identity-txs.ts, shared with claims and audit verdicts, so nonces
// never collide): it is sent and waited for until committed, then the state is read again. Nothing is
// kept on disk: after a restart the ledger says what is left. A refusal, a drop from the mempool or a
// step that does not commit in time is retried after a back-off that doubles up to retryMaxMs. The
// driver acts only after a block has committed since start and while no peer claims a height above
// ours, so it never builds on a state the network has left behind.
import type { LedgerNode } from '../consensus/ledger-node.ts';
import type { Identity } from '../crypto/identity.ts';
import { verifyPow } from '../crypto/pow.ts';
import { solvePowAsync } from '../daemon/identity-file.ts';
import { keyHex } from '../ledger/state.ts';
import type { Logger } from '../log/logger.ts';
import type { TxBody } from '../wire/ledger-tx.ts';
import type { IdentityTxs } from './identity-txs.ts';
import {
  nextRegistrationStep,
  type RegistrationGoal,
  type RegistrationStep,
  type RelayContent,
} from './registration-plan.ts';

export interface RegistrationOptions {
  /** The validator role: stand for election once registered. */
  readonly validator: boolean;
  /** First pause after a failed step, doubled per failure up to retryMaxMs. */
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
}

export const defaultRegistrationOptions: Omit<RegistrationOptions, 'validator'> = {
  retryMinMs: 1_000,
  retryMaxMs: 5 * 60_000,
};

/** What the driver reads of the ledger node. */
export type RegistrationLedger = Pick<LedgerNode, 'state' | 'onCommit' | 'status'>;

export interface RegistrationDeps {
  readonly log: Logger;
  readonly now: () => number;
  readonly ledger: RegistrationLedger;
  /** The node identity's transaction queue (economy-subsystem.ts). */
  readonly txs: Pick<IdentityTxs, 'send'>;
  /** The node identity (the relay's account) and its proof-of-work nonce. */
  readonly keys: { readonly identity: Identity; readonly powNonce: bigint };
  /** The account the relay's earnings go to: the node's wallet unless configured otherwise. */
  readonly payout: Uint8Array;
  /** What the relay registers, from its descriptor; undefined until the descriptor is built. */
  readonly content: () => RelayContent | undefined;
}

/**
 * waiting: for the ledger (no block since start, behind its peers, or no descriptor yet);
 * claiming | registering | standing: that step is submitted and not yet committed;
 * retrying: a step failed, the next try is after the back-off; registered: nothing left to do.
 */
export type RegistrationState =
  | 'waiting'
  | 'claiming'
  | 'registering'
  | 'standing'
  | 'retrying'
  | 'registered';

/** The part of the node status the registration owns. */
export interface RegistrationStatus {
  readonly state: RegistrationState;
  /** Steps that failed since start, and the code of the last failure. */
  readonly failures: number;
  readonly lastFailure?: string;
  /** Height of the relay's registration on the ledger. */
  readonly registeredAt?: number;
  /** Whether the payout account is this node's wallet (never the account itself: see the wallet). */
  readonly payoutIsWallet: boolean;
}

export interface RegistrationSubsystem {
  status(): { readonly registration: RegistrationStatus };
  start(): void;
  stop(): void;
}

const STEP_STATE: Record<RegistrationStep, RegistrationState> = {
  claim: 'claiming',
  register: 'registering',
  candidacy: 'standing',
};

const DONE_MESSAGE: Record<RegistrationStep, string> = {
  claim: "claimed the relay identity's start grant",
  register: 'registered as a relay on the ledger',
  candidacy: 'stood for election as a validator',
};

export function createRegistration(
  opts: RegistrationOptions & { readonly payoutIsWallet: boolean },
  deps: RegistrationDeps,
): RegistrationSubsystem {
  const { ledger, log } = deps;
  const self = keyHex(deps.keys.identity.publicKey);
  const abort = new AbortController();
  let state: RegistrationState = 'waiting';
  let busy = false;
  let committedSinceStart = false;
  let retryMs = opts.retryMinMs;
  let retryAt = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let failures = 0;
  let lastFailure: string | undefined;
  let started = false;

  const fail = (step: RegistrationStep, code: string) => {
    failures++;
    lastFailure = code;
    state = 'retrying';
    retryAt = deps.now() + retryMs;
    log.warn({ step, code, retryInMs: retryMs }, 'a ledger registration step failed; it will be retried');
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => void evaluate(), retryMs);
    retryTimer.unref();
    retryMs = Math.min(retryMs * 2, opts.retryMaxMs);
  };

  /** The claim's proof of work at the ledger's difficulty: the identity's own nonce when it meets it. */
  const claimNonce = async (difficulty: number): Promise<bigint> => {
    if (verifyPow(deps.keys.identity.publicKey, deps.keys.powNonce, difficulty)) return deps.keys.powNonce;
    return solvePowAsync(deps.keys.identity.publicKey, difficulty, abort.signal);
  };

  const body = async (step: RegistrationStep, goal: RegistrationGoal): Promise<TxBody> => {
    if (step === 'claim')
      return { kind: 'CLAIM_GENESIS', powNonce: await claimNonce(ledger.state.params.powDifficulty) };
    if (step === 'candidacy') return { kind: 'VALIDATOR_CANDIDACY' };
    const c = goal.content;
    return {
      kind: 'REGISTER_RELAY',
      roles: c.roles,
      bandwidth: c.bandwidth,
      onionKeyHash: c.onionKeyHash,
      payout: goal.payout,
      exitPolicySummary: c.exitPolicySummary,
    };
  };

  const evaluate = async (): Promise<void> => {
    if (!started || abort.signal.aborted || busy) return;
    if (state === 'retrying' && deps.now() < retryAt) return;
    const content = deps.content();
    const caughtUp = ledger.status().guard.highestClaim <= ledger.state.height;
    if (!committedSinceStart || !caughtUp || content === undefined) {
      if (state !== 'retrying') state = 'waiting';
      return;
    }
    const goal: RegistrationGoal = { content, payout: deps.payout };
    const step = nextRegistrationStep(ledger.state, self, goal, opts.validator);
    if (step === 'done') {
      state = 'registered';
      return;
    }
    busy = true;
    state = STEP_STATE[step];
    let done = false;
    try {
      const out = await deps.txs.send(await body(step, goal), abort.signal);
      if (out.ok) {
        retryMs = opts.retryMinMs;
        log.info({ height: out.height }, DONE_MESSAGE[step]);
        done = true;
      } else fail(step, out.code);
    } catch (err) {
      if (!abort.signal.aborted) fail(step, (err as { code?: string }).code ?? 'INTERNAL');
    } finally {
      busy = false;
    }
    // The state now holds this step: the next one need not wait for another block.
    if (done) await evaluate();
  };

  return {
    status: () => {
      const onChain = ledger.state.relays.get(self);
      return {
        registration: {
          state,
          failures,
          ...(lastFailure !== undefined ? { lastFailure } : {}),
          ...(onChain !== undefined ? { registeredAt: onChain.height } : {}),
          payoutIsWallet: opts.payoutIsWallet,
        },
      };
    },
    start: () => {
      started = true;
      ledger.onCommit(() => {
        committedSinceStart = true;
        void evaluate();
      });
    },
    stop: () => {
      abort.abort();
      clearTimeout(retryTimer);
    },
  };
}

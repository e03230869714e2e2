// A double-sign guard for a validator's key (Tendermint's "last sign state"): it refuses to sign a
// proposal or vote for a (height, round, step) below the last one signed, or different bytes for the
// same one. A validator that restarts and forgets its votes could otherwise equivocate. The state must
// be persisted by the caller before the signature leaves the node (`onSigned`); this file stays pure.
import { PROPOSAL_SIGNING_CONTEXT, VOTE_SIGNING_CONTEXT } from '../wire/block.ts';
import { bytesEqual, Reader } from '../wire/bytes.ts';
import type { ConsensusSigner } from './engine.ts';

/** The position a signing message belongs to; steps: 1 proposal, 2 prevote, 3 precommit. */
export interface SignSlot {
  readonly height: number;
  readonly round: number;
  readonly step: 1 | 2 | 3;
}

export interface LastSignState {
  readonly slot: SignSlot;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
}

export class DoubleSignError extends Error {
  readonly code = 'DOUBLE_SIGN';

  constructor(message: string) {
    super(message);
    this.name = 'DoubleSignError';
  }
}

const VOTE_CTX = new TextEncoder().encode(VOTE_SIGNING_CONTEXT);
const PROPOSAL_CTX = new TextEncoder().encode(PROPOSAL_SIGNING_CONTEXT);

/** Reads the slot of a vote or proposal signing message; null for anything else. */
export function signSlot(msg: Uint8Array): SignSlot | null {
  try {
    if (startsWith(msg, VOTE_CTX)) {
      const r = new Reader(msg.subarray(VOTE_CTX.length));
      const type = r.u8();
      r.bytes(r.u8());
      const height = Number(r.u64());
      const round = r.u32();
      if (type !== 1 && type !== 2) return null;
      return { height, round, step: type === 1 ? 2 : 3 };
    }
    if (startsWith(msg, PROPOSAL_CTX)) {
      const r = new Reader(msg.subarray(PROPOSAL_CTX.length));
      r.bytes(r.u8());
      const height = Number(r.u64());
      return { height, round: r.u32(), step: 1 };
    }
  } catch {
    return null;
  }
  return null;
}

function compareSlots(a: SignSlot, b: SignSlot): number {
  return a.height - b.height || a.round - b.round || a.step - b.step;
}

/**
 * Wraps a signer. `last` is the persisted state (null for a key that never signed); `onSigned` must
 * persist the new state before returning (it runs before the signature is handed back).
 */
export function guardSigner(
  inner: ConsensusSigner,
  last: LastSignState | null,
  onSigned: (state: LastSignState) => void,
): ConsensusSigner & { readonly lastSigned: () => LastSignState | null } {
  let state = last;
  return {
    publicKey: inner.publicKey,
    lastSigned: () => state,
    sign(msg: Uint8Array): Uint8Array {
      const slot = signSlot(msg);
      if (slot === null) throw new DoubleSignError('not a consensus signing message');
      if (state !== null) {
        const c = compareSlots(slot, state.slot);
        if (c < 0) throw new DoubleSignError('slot below the last one signed');
        if (c === 0) {
          if (bytesEqual(msg, state.message)) return state.signature.slice();
          throw new DoubleSignError('different message for the slot already signed');
        }
      }
      const signature = inner.sign(msg);
      const next: LastSignState = { slot, message: msg.slice(), signature: signature.slice() };
      onSigned(next);
      state = next;
      return signature;
    },
  };
}

function startsWith(msg: Uint8Array, prefix: Uint8Array): boolean {
  return msg.length >= prefix.length && bytesEqual(msg.subarray(0, prefix.length), prefix);
}

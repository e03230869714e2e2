// ProposeParam and VoteParam on the daemon: transactions signed by this node's identity through the
// node's one queue of identity transactions (economy/identity-txs.ts, so their nonces never collide with
// the claims, audit verdicts and measurements a validator sends), answered once committed. A node that is
// not a validator of the next block is refused with NOT_A_VALIDATOR before anything is signed; a
// client-only node signs nothing with its node identity at all (docs/economy.md, "Roles and keys").
import { keyHex, type LedgerState } from '../ledger/state.ts';
import type { TxBody } from '../wire/ledger-tx.ts';
import { ApiError } from './errors.ts';
import { isNextValidator, ledgerProposals } from './governance.ts';
import type { LedgerSource } from './source.ts';

export type NodeTxOutcome =
  | { readonly ok: true; readonly height: number }
  | { readonly ok: false; readonly code: string; readonly reason: string };

/** The node identity's transaction queue (IdentityTxs) and its key. */
export interface NodeSigner {
  readonly key: Uint8Array;
  /** Signs `body` with the next nonce, submits, and resolves once it is committed or refused. */
  send(body: TxBody, signal: AbortSignal): Promise<NodeTxOutcome>;
}

type Governance = Pick<LedgerSource, 'proposals' | 'propose' | 'vote'>;

/** `ledger`: the committed state (a LedgerNode); `signer` undefined: a client only, which refuses. */
export function nodeGovernance(
  ledger: { readonly state: LedgerState },
  signer: NodeSigner | undefined,
): Governance {
  const validatorSigner = (): NodeSigner => {
    if (signer === undefined)
      throw new ApiError(
        'NOT_A_VALIDATOR',
        'this node is a client only: it signs nothing with its node identity, and only validators propose and vote',
      );
    if (!isNextValidator(ledger.state, signer.key))
      throw new ApiError(
        'NOT_A_VALIDATOR',
        "this node is not a validator of the ledger's current epoch: only validators propose and vote",
      );
    return signer;
  };
  const committed = async (s: NodeSigner, body: TxBody, signal: AbortSignal): Promise<number> => {
    const r = await s.send(body, signal);
    if (!r.ok) throw new ApiError('TX_REFUSED', `${r.code}: ${r.reason}`);
    return r.height;
  };
  return {
    proposals: () => ledgerProposals(ledger.state),
    propose: async (paramId, value, signal) => {
      const s = validatorSigner();
      const height = await committed(s, { kind: 'PARAM_PROPOSAL', paramId, value }, signal);
      // The proposal's id is its transaction's id, which the queue does not hand back: it is the one
      // proposal of this key, parameter and value opened at that height (one transaction per block and
      // key at a time). Empty only if votes already passed it in the meantime.
      const me = keyHex(s.key);
      const found = [...ledger.state.proposals].find(
        ([, p]) => p.proposer === me && p.paramId === paramId && p.value === value && p.height === height,
      );
      return { proposalId: found?.[0] ?? '', height: BigInt(height) };
    },
    vote: async (proposalId, yes, signal) => {
      const id = keyHex(proposalId);
      if (!ledger.state.proposals.has(id)) throw new ApiError('NOT_FOUND', `no open proposal ${id}`);
      const s = validatorSigner();
      const height = await committed(s, { kind: 'PARAM_VOTE', proposalId, yes }, signal);
      // A proposal leaves the open ones only when a vote passes it.
      return { height: BigInt(height), passed: !ledger.state.proposals.has(id) };
    },
  };
}

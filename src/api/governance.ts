// Governance of the ledger's parameters as the API and the CLI take it: a parameter by its name (PARAM_ID)
// and a value checked against its range (PARAM_RANGES) before anything is signed, and the open proposals
// with their votes. The ledger checks the same again when the transaction applies; checking here gives a
// person a clear answer at once instead of a refused transaction.
import { PARAM_RANGES } from '../ledger/apply.ts';
import { validatorsForHeight } from '../ledger/epochs.ts';
import { keyHex, type LedgerParams, type LedgerState, PARAM_ID } from '../ledger/state.ts';
import type { ProposalInit } from './source.ts';

export type ParamName = keyof LedgerParams;

export type ParamCheck =
  | { readonly ok: true; readonly name: ParamName; readonly paramId: number; readonly value: bigint }
  | { readonly ok: false; readonly field: 'param' | 'value'; readonly message: string };

const DECIMAL = /^(0|[1-9][0-9]*)$/;
const NAME_BY_ID = new Map<number, ParamName>(
  Object.entries(PARAM_ID).map(([name, id]) => [id, name as ParamName]),
);

export const PARAM_NAMES: readonly ParamName[] = Object.keys(PARAM_ID) as ParamName[];

const isParamName = (name: string): name is ParamName => Object.hasOwn(PARAM_ID, name);

/** The parameter named `name` and `text` as its value, or which of the two is wrong and why. */
export function checkParam(name: string, text: string): ParamCheck {
  if (!isParamName(name))
    return {
      ok: false,
      field: 'param',
      message: `unknown parameter "${name}" (one of: ${PARAM_NAMES.join(', ')})`,
    };
  const t = text.trim();
  const [min, max] = PARAM_RANGES[name];
  if (!DECIMAL.test(t))
    return {
      ok: false,
      field: 'value',
      message: `"${text}" is not a whole number (${name}: ${min}..${max})`,
    };
  const value = BigInt(t);
  if (value < min || value > max)
    return { ok: false, field: 'value', message: `${name} must be in ${min}..${max}, got ${value}` };
  return { ok: true, name, paramId: PARAM_ID[name], value };
}

/** A proposal passes once more than 2/3 of the validators voted yes. */
export const yesNeeded = (validators: number): number => Math.floor((2 * validators) / 3) + 1;

/** The open proposals, by id, with the votes counted among the validators of the next block. */
export function ledgerProposals(state: LedgerState): ProposalInit[] {
  const validators = new Set((validatorsForHeight(state, state.height + 1) ?? []).map(keyHex));
  return [...state.proposals]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([id, p]) => {
      const name = NAME_BY_ID.get(p.paramId);
      const votes = [...p.votes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const counted = votes.filter(([v]) => validators.has(v));
      return {
        id,
        param: name ?? `#${p.paramId}`,
        paramId: p.paramId,
        value: p.value.toString(),
        current: name === undefined ? '' : String(state.params[name]),
        proposer: p.proposer,
        height: BigInt(p.height),
        votes: votes.map(([validator, yes]) => ({ validator, yes })),
        yes: counted.filter(([, yes]) => yes).length,
        no: counted.filter(([, yes]) => !yes).length,
        needed: yesNeeded(validators.size),
      };
    });
}

/** Whether `key` is a validator of the next block (only validators propose and vote). */
export function isNextValidator(state: LedgerState, key: Uint8Array): boolean {
  const me = keyHex(key);
  return (validatorsForHeight(state, state.height + 1) ?? []).some((v) => keyHex(v) === me);
}

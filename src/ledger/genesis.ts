// The genesis document: what every node of one chain must agree on before block 1. JSON, strictly
// parsed (unknown fields refused), so two nodes never read the same file differently:
//
//   {
//     "chainId": "anonnet-test",                 1..32 printable ASCII bytes
//     "params": { "validatorCount": 4, "epochLength": 10, "startingCredits": "1000", ... },
//     "validators": ["<64 hex>", ...],           1..1024 distinct Ed25519 keys: epochs 0 and 1
//     "accounts": [{ "key": "<64 hex>", "balance": "500" }]   optional prefunded balances (minted)
//   }
//
// Credit amounts are decimal strings (or safe integers); other params are integers; every param is
// optional (defaults: defaultLedgerParams) and must lie in PARAM_RANGES. genesisState gives the state
// at height 0: prefunded accounts, the initial validators as candidates with reputation age counted
// from genesis, epoch 0 (heights 1..L) and epoch 1 (L+1..2L) ruled by the initial validators.
import { z } from 'zod';
import { isChainId, MAX_VALIDATORS } from '../wire/block.ts';
import { PARAM_RANGES } from './apply.ts';
import { addCredits, type Credits, MAX_CREDITS, ZERO_CREDITS } from './credits.ts';
import {
  type Account,
  emptyAccount,
  hexKey,
  initialLedgerState,
  keyHex,
  type LedgerParams,
  type LedgerState,
  PARAM_ID,
} from './state.ts';

export interface GenesisAccount {
  readonly key: Uint8Array;
  readonly balance: Credits;
}

export interface GenesisDoc {
  readonly chainId: string;
  readonly params: Partial<LedgerParams>;
  /** Initial validator keys (32-byte Ed25519): the sets of epochs 0 and 1. */
  readonly validators: readonly Uint8Array[];
  readonly accounts?: readonly GenesisAccount[];
}

export class GenesisError extends Error {
  readonly code = 'BAD_GENESIS';

  constructor(message: string) {
    super(message);
    this.name = 'GenesisError';
  }
}

const hex32 = z.string().regex(/^[0-9a-f]{64}$/, 'a 32-byte key as 64 lowercase hex digits');
const amount = z.union([
  z.string().regex(/^(0|[1-9][0-9]{0,19})$/, 'a decimal amount'),
  z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
]);
const int = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

const paramsSchema = z
  .object({
    startingCredits: amount,
    blockIntervalMs: int,
    validatorCount: int,
    nameFee: amount,
    minFee: amount,
    powDifficulty: int,
    epochLength: int,
    relayBond: amount,
    creditsPerGiB: amount,
    poolCapPerEpoch: amount,
    unmeasuredBandwidth: int,
    auditSamples: int,
    capacityCap: int,
    measureSample: int,
  })
  .partial()
  .strict();

const genesisSchema = z
  .object({
    chainId: z.string().refine(isChainId, '1..32 printable ASCII characters'),
    params: paramsSchema.default({}),
    validators: z.array(hex32).min(1).max(MAX_VALIDATORS),
    accounts: z
      .array(z.object({ key: hex32, balance: amount }).strict())
      .max(1_000_000)
      .optional(),
  })
  .strict();

/** Parses and checks a genesis document (JSON text). Throws GenesisError with the first problem. */
export function parseGenesis(json: string): GenesisDoc {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new GenesisError(`genesis is not JSON: ${(err as Error).message}`);
  }
  const parsed = genesisSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new GenesisError(`genesis: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  const v = parsed.data;
  const params: Record<string, number | bigint> = {};
  for (const [name, value] of Object.entries(v.params)) {
    if (value === undefined) continue;
    const big = BigInt(value);
    const range = PARAM_RANGES[name as keyof LedgerParams];
    if (big < range[0] || big > range[1])
      throw new GenesisError(`genesis: params.${name} must be in ${range[0]}..${range[1]}`);
    params[name] = typeof value === 'string' || isCreditParam(name) ? big : value;
  }
  const doc: GenesisDoc = {
    chainId: v.chainId,
    params: params as Partial<LedgerParams>,
    validators: v.validators.map(hexKey),
    ...(v.accounts === undefined
      ? {}
      : { accounts: v.accounts.map((a) => ({ key: hexKey(a.key), balance: BigInt(a.balance) as Credits })) }),
  };
  checkGenesis(doc);
  return doc;
}

/** The canonical JSON text of a genesis document (credit amounts as decimal strings). */
export function encodeGenesis(doc: GenesisDoc): string {
  checkGenesis(doc);
  const params: Record<string, string | number> = {};
  for (const name of Object.keys(PARAM_ID) as (keyof LedgerParams)[]) {
    const value = doc.params[name]; // in PARAM_ID order: one text per document
    if (value !== undefined) params[name] = typeof value === 'bigint' ? value.toString() : value;
  }
  const out = {
    chainId: doc.chainId,
    params,
    validators: doc.validators.map(keyHex),
    ...(doc.accounts === undefined
      ? {}
      : { accounts: doc.accounts.map((a) => ({ key: keyHex(a.key), balance: a.balance.toString() })) }),
  };
  return `${JSON.stringify(out, null, 2)}\n`;
}

const CREDIT_PARAMS: ReadonlySet<string> = new Set([
  'startingCredits',
  'nameFee',
  'minFee',
  'relayBond',
  'creditsPerGiB',
  'poolCapPerEpoch',
]);

function isCreditParam(name: string): boolean {
  return CREDIT_PARAMS.has(name);
}

function checkGenesis(doc: GenesisDoc): void {
  if (!isChainId(doc.chainId))
    throw new GenesisError('genesis: chainId must be 1..32 printable ASCII characters');
  if (doc.validators.length === 0) throw new GenesisError('genesis: at least one validator');
  const seen = new Set<string>();
  for (const key of doc.validators) {
    if (key.length !== 32) throw new GenesisError('genesis: validator keys are 32 bytes');
    const k = keyHex(key);
    if (seen.has(k)) throw new GenesisError(`genesis: validator ${k} listed twice`);
    seen.add(k);
  }
  const accounts = new Set<string>();
  let total: Credits | undefined = ZERO_CREDITS;
  for (const a of doc.accounts ?? []) {
    if (a.key.length !== 32) throw new GenesisError('genesis: account keys are 32 bytes');
    const k = keyHex(a.key);
    if (accounts.has(k)) throw new GenesisError(`genesis: account ${k} listed twice`);
    accounts.add(k);
    if (a.balance < 0n || a.balance > MAX_CREDITS) throw new GenesisError('genesis: balance out of range');
    total = total === undefined ? undefined : addCredits(total, a.balance);
  }
  if (total === undefined) throw new GenesisError('genesis: prefunded balances pass 2^64-1');
}

/** The state at height 0 that block 1 builds on. */
export function genesisState(doc: GenesisDoc): LedgerState {
  checkGenesis(doc);
  const base = initialLedgerState(doc.params, doc.chainId);
  const accounts = new Map<string, Account>();
  let minted: Credits = ZERO_CREDITS;
  const fromGenesis = { ...emptyAccount.reputation, since: 0 };
  for (const a of doc.accounts ?? []) {
    accounts.set(keyHex(a.key), { ...emptyAccount, balance: a.balance, reputation: fromGenesis });
    minted = (minted + a.balance) as Credits; // bounded by checkGenesis
  }
  const validators = doc.validators.map(keyHex).sort();
  for (const k of validators) {
    const a = accounts.get(k) ?? emptyAccount;
    accounts.set(k, { ...a, reputation: fromGenesis });
  }
  const length = base.params.epochLength;
  return {
    ...base,
    accounts,
    candidates: new Set(validators),
    epochs: [
      { epoch: 0, startHeight: 1, length, validators },
      { epoch: 1, startHeight: 1 + length, length, validators },
    ],
    minted,
  };
}

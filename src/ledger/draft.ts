// A working copy of a LedgerState for applying many transactions in a row (a block, a proposal, a
// mempool replay). Reads fall through to the base state; writes go to small overlay maps; freeze()
// builds the next immutable state, copying each touched map of the base once. So a block of n
// transactions costs O(n) map operations plus one copy per touched map, where applying them one by
// one as immutable states copied the whole accounts map per transaction (O(accounts × n)).
//
// The base state is never written. The overlay only ever holds final values per key, so freeze()
// gives exactly the state the same transactions give when applied one state at a time (the property
// tests in test/unit/ledger/draft.property.test.ts compare the hashes).
import type { Credits } from './credits.ts';
import {
  type Account,
  type EconomyState,
  getAccount,
  type KeyHex,
  type LedgerParams,
  type LedgerState,
  type NameRecord,
  type Proposal,
  type RelayRegistration,
} from './state.ts';
import { noteAccountsDerived } from './state-codec.ts';

export class LedgerDraft {
  readonly base: LedgerState;
  params: LedgerParams;
  minted: Credits;
  burned: Credits;
  readonly #accounts = new Map<KeyHex, Account>();
  readonly #relays = new Map<KeyHex, RelayRegistration>();
  /** Additions only: no transaction withdraws a candidacy. */
  readonly #candidates = new Set<KeyHex>();
  readonly #names = new Map<string, NameRecord>();
  /** null: closed (deleted) in this draft. */
  readonly #proposals = new Map<KeyHex, Proposal | null>();
  /** Replaced whole by the economy's transactions (./economy-tx.ts): few per block. */
  economy: EconomyState;

  constructor(base: LedgerState) {
    this.base = base;
    this.params = base.params;
    this.minted = base.minted;
    this.burned = base.burned;
    this.economy = base.economy;
  }

  relay(key: KeyHex): RelayRegistration | undefined {
    return this.#relays.get(key) ?? this.base.relays.get(key);
  }

  account(key: KeyHex): Account {
    return this.#accounts.get(key) ?? getAccount(this.base, key);
  }

  setAccount(key: KeyHex, account: Account): void {
    this.#accounts.set(key, account);
  }

  hasRelay(key: KeyHex): boolean {
    return this.#relays.has(key) || this.base.relays.has(key);
  }

  setRelay(key: KeyHex, registration: RelayRegistration): void {
    this.#relays.set(key, registration);
  }

  isCandidate(key: KeyHex): boolean {
    return this.#candidates.has(key) || this.base.candidates.has(key);
  }

  addCandidate(key: KeyHex): void {
    this.#candidates.add(key);
  }

  hasName(name: string): boolean {
    return this.#names.has(name) || this.base.names.has(name);
  }

  setName(name: string, record: NameRecord): void {
    this.#names.set(name, record);
  }

  proposal(id: KeyHex): Proposal | undefined {
    const p = this.#proposals.get(id);
    if (p === null) return undefined;
    if (p !== undefined) return p;
    return this.base.proposals.get(id);
  }

  setProposal(id: KeyHex, proposal: Proposal): void {
    this.#proposals.set(id, proposal);
  }

  deleteProposal(id: KeyHex): void {
    this.#proposals.set(id, null);
  }

  #frozenAccounts(): ReadonlyMap<KeyHex, Account> {
    const changes = new Map(this.#accounts);
    const next = merged(this.base.accounts, changes);
    // The next state's encoding splices these records into the base's (./state-codec.ts).
    noteAccountsDerived(next, this.base.accounts, changes);
    return next;
  }

  /** The state with every change of this draft; the base itself when nothing changed. */
  freeze(): LedgerState {
    const b = this.base;
    if (
      this.#accounts.size === 0 &&
      this.#relays.size === 0 &&
      this.#candidates.size === 0 &&
      this.#names.size === 0 &&
      this.#proposals.size === 0 &&
      this.params === b.params &&
      this.minted === b.minted &&
      this.burned === b.burned &&
      this.economy === b.economy
    ) {
      return b;
    }
    return {
      ...b,
      params: this.params,
      minted: this.minted,
      burned: this.burned,
      economy: this.economy,
      accounts: this.#frozenAccounts(),
      relays: merged(b.relays, this.#relays),
      candidates:
        this.#candidates.size === 0 ? b.candidates : new Set([...b.candidates, ...this.#candidates]),
      names: merged(b.names, this.#names),
      proposals: mergedWithDeletes(b.proposals, this.#proposals),
    };
  }
}

function merged<K, V>(base: ReadonlyMap<K, V>, changes: ReadonlyMap<K, V>): ReadonlyMap<K, V> {
  if (changes.size === 0) return base;
  const next = new Map(base);
  for (const [k, v] of changes) next.set(k, v);
  return next;
}

function mergedWithDeletes<K, V>(
  base: ReadonlyMap<K, V>,
  changes: ReadonlyMap<K, V | null>,
): ReadonlyMap<K, V> {
  if (changes.size === 0) return base;
  const next = new Map(base);
  for (const [k, v] of changes) {
    if (v === null) next.delete(k);
    else next.set(k, v);
  }
  return next;
}

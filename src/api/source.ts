// What the control API reads from the daemon: a narrow interface that node.ts implements and tests fake.
// Shapes are the protobuf messages' init shapes, so the source cannot return a field the API lacks.
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { CircuitSchema } from './gen/anonnet/v1/circuits_pb.js';
import type {
  LedgerEconomySchema,
  LedgerRelaySchema,
  LedgerStatusSchema,
  ProposalSchema,
} from './gen/anonnet/v1/ledger_pb.js';
import type {
  BandwidthSchema,
  NodeEconomySchema,
  NodeStatusSchema,
  PeerSchema,
  RelaySchema,
} from './gen/anonnet/v1/node_pb.js';

export type StatusInit = MessageInitShape<typeof NodeStatusSchema>;
export type NodeEconomyInit = MessageInitShape<typeof NodeEconomySchema>;
export type CircuitInfo = MessageInitShape<typeof CircuitSchema> & { readonly id: string };
export type PeerInfo = MessageInitShape<typeof PeerSchema>;
export type RelayInfo = MessageInitShape<typeof RelaySchema>;
export type BandwidthInit = MessageInitShape<typeof BandwidthSchema>;
export type LedgerRelayInfo = MessageInitShape<typeof LedgerRelaySchema>;
export type LedgerEconomyInit = MessageInitShape<typeof LedgerEconomySchema>;
export type ProposalInit = MessageInitShape<typeof ProposalSchema>;

export interface StreamRow {
  readonly circuitId: string;
  readonly streamId: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
}

/** A JSON value as it appears in the config (what google.protobuf.Struct carries). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };
export type JsonObject = { [k: string]: JsonValue };

export interface ConfigSource {
  /** The effective configuration, shaped like the config file (secrets are removed by the API). */
  effective(): JsonObject;
  /** Applies one already-validated writable field (dotted path, e.g. "circuits.prebuilt"). */
  apply(path: string, value: JsonValue): void;
}

export type TxState =
  | { readonly status: 'pending' | 'unknown' }
  | { readonly status: 'committed'; readonly height: bigint }
  | { readonly status: 'refused'; readonly refusalCode: string };

/** The ledger as the API sees it; absent on a node without a ledger (its RPCs answer 503). */
export interface LedgerSource {
  status(): MessageInitShape<typeof LedgerStatusSchema>;
  /** undefined when the account does not exist. */
  balance(account: Uint8Array): { readonly balance: bigint; readonly nonce: bigint } | undefined;
  /** Queues a signed transaction; resolves to its id (hex). Throws ApiError TX_REFUSED / INVALID_ARGUMENT. */
  submit(tx: Uint8Array, signal: AbortSignal): Promise<string>;
  transaction(txId: Uint8Array): TxState;
  /** The relays registered on the ledger, by account. */
  relays(): LedgerRelayInfo[];
  /** The open parameter proposals, by id. */
  proposals(): ProposalInit[];
  /**
   * Proposes a parameter value (already checked against its range), signed by this node's identity;
   * resolves once committed. Throws ApiError NOT_A_VALIDATOR, or TX_REFUSED with the ledger's code.
   */
  propose(
    paramId: number,
    value: bigint,
    signal: AbortSignal,
  ): Promise<{ proposalId: string; height: bigint }>;
  /** Votes on an open proposal, signed by this node's identity; as propose, and NOT_FOUND. */
  vote(
    proposalId: Uint8Array,
    yes: boolean,
    signal: AbortSignal,
  ): Promise<{ height: bigint; passed: boolean }>;
}

export interface ApiSource {
  status(): StatusInit;
  circuits(): CircuitInfo[];
  relays(): RelayInfo[];
  peers(): PeerInfo[];
  streams(): StreamRow[];
  bandwidth(): BandwidthInit;
  buildCircuit(signal: AbortSignal): Promise<{ id: string; buildMs: number; hops: readonly string[] }>;
  closeCircuit(id: string): boolean;
  readonly config: ConfigSource;
  readonly ledger?: LedgerSource;
}

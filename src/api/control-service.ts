// The one implementation of the control service. The Connect/gRPC router (connect-routes.ts) and the
// REST routes (rest-routes.ts) both call these handlers, so the faces cannot answer differently.
import type {
  DescMessage,
  DescMethodServerStreaming,
  DescMethodUnary,
  MessageInitShape,
  MessageShape,
} from '@bufbuild/protobuf';
import { EVENT_KINDS, type EventBus, type EventKind } from '../daemon/events.ts';
import { validatePatch, WRITABLE, withoutSecrets } from './config-patch.ts';
import { ApiError, invalidArgument } from './errors.ts';
import type { ControlService } from './gen/anonnet/v1/control_pb.js';
import { checkParam } from './governance.ts';
import type { ApiSource, JsonObject, LedgerSource } from './source.ts';

export interface CallContext {
  readonly signal: AbortSignal;
}

type Methods = (typeof ControlService)['method'];
type Handler<M> =
  M extends DescMethodUnary<infer I extends DescMessage, infer O extends DescMessage>
    ? (req: MessageShape<I>, ctx: CallContext) => Promise<MessageInitShape<O>>
    : M extends DescMethodServerStreaming<infer I extends DescMessage, infer O extends DescMessage>
      ? (req: MessageShape<I>, ctx: CallContext) => AsyncIterable<MessageInitShape<O>>
      : never;
export type ControlHandlers = { [K in keyof Methods]: Handler<Methods[K]> };

const HEX_32 = /^[0-9a-fA-F]{64}$/;
const BUILD_TIMEOUT_MS = 60_000;

function hex32(field: string, value: string): Uint8Array {
  if (!HEX_32.test(value)) throw invalidArgument(field, 'must be 64 hex digits');
  return Buffer.from(value, 'hex');
}

/** Transaction bytes from hex or base64 (standard or URL-safe); refuses anything else. */
export function decodeTxBytes(field: string, value: string): Uint8Array {
  const v = value.trim();
  if (v.length === 0) throw invalidArgument(field, 'must not be empty');
  if (/^[0-9a-fA-F]+$/.test(v) && v.length % 2 === 0) return Buffer.from(v, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(v) && v.replace(/=+$/, '').length % 4 !== 1) {
    return Buffer.from(v, v.includes('-') || v.includes('_') ? 'base64url' : 'base64');
  }
  throw invalidArgument(field, 'must be hex or base64');
}

export function createControlHandlers(source: ApiSource, bus: EventBus): ControlHandlers {
  const ledger = (): LedgerSource => {
    if (source.ledger === undefined)
      throw new ApiError('LEDGER_UNAVAILABLE', 'this node runs no ledger (start it with --genesis)');
    return source.ledger;
  };
  const config = () => ({
    config: withoutSecrets(source.config.effective()) as JsonObject,
    writable: [...WRITABLE.keys()],
  });

  return {
    getStatus: async () => source.status(),
    listPeers: async () => {
      const peers = source.peers();
      const transports: Record<string, number> = {};
      for (const p of peers) {
        const t = p.transport || 'other';
        transports[t] = (transports[t] ?? 0) + 1;
      }
      // count: distinct peers (one peer may hold several connections); transports: per connection.
      return { count: new Set(peers.map((p) => p.peerId)).size, transports, peers };
    },
    listRelays: async () => ({ relays: source.relays() }),
    listCircuits: async () => ({ circuits: source.circuits() }),
    buildCircuit: async (_req, ctx) => {
      const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(BUILD_TIMEOUT_MS)]);
      try {
        const built = await source.buildCircuit(signal);
        return { id: built.id, buildMs: built.buildMs, hops: [...built.hops] };
      } catch (err) {
        throw new ApiError('CIRCUIT_BUILD_FAILED', `could not build a circuit: ${(err as Error).message}`);
      }
    },
    closeCircuit: async (req) => {
      if (req.id === '') throw invalidArgument('id', 'must not be empty');
      if (!source.closeCircuit(req.id)) throw new ApiError('NOT_FOUND', `no circuit ${req.id}`);
      return {};
    },
    listStreams: async (req) => {
      const rows = source.streams();
      return { streams: req.circuitId === '' ? rows : rows.filter((s) => s.circuitId === req.circuitId) };
    },
    getBandwidth: async () => source.bandwidth(),
    getConfig: async () => config(),
    updateConfig: async (req) => {
      if (req.patch === undefined) throw invalidArgument('patch', 'a JSON object of fields to change');
      // validatePatch checks every field before any is applied: a patch applies whole or not at all.
      for (const { path, value } of validatePatch(req.patch as JsonObject)) source.config.apply(path, value);
      return config();
    },
    getLedgerStatus: async () => ledger().status(),
    listLedgerRelays: async () => ({ relays: ledger().relays() }),
    getBalance: async (req) => {
      const account = hex32('account', req.account);
      const found = ledger().balance(account);
      if (found === undefined) throw new ApiError('NOT_FOUND', 'no such account');
      return { account: req.account.toLowerCase(), balance: found.balance.toString(), nonce: found.nonce };
    },
    submitTransaction: async (req, ctx) => {
      const tx = decodeTxBytes('tx', req.tx);
      return { txId: await ledger().submit(tx, ctx.signal) };
    },
    getTransaction: async (req) => {
      const txId = hex32('txId', req.txId);
      const t = ledger().transaction(txId);
      return {
        txId: req.txId.toLowerCase(),
        status: t.status,
        ...(t.status === 'committed' ? { height: t.height } : {}),
        ...(t.status === 'refused' ? { refusalCode: t.refusalCode } : {}),
      };
    },
    listProposals: async () => ({ proposals: ledger().proposals() }),
    proposeParam: async (req, ctx) => {
      const p = checkParam(req.param, req.value);
      if (!p.ok) throw invalidArgument(p.field, p.message);
      return ledger().propose(p.paramId, p.value, ctx.signal);
    },
    voteParam: async (req, ctx) => {
      const id = hex32('proposalId', req.proposalId);
      return ledger().vote(id, req.yes, ctx.signal);
    },
    watchEvents: (req, ctx) => {
      for (const k of req.kinds) {
        if (!(EVENT_KINDS as readonly string[]).includes(k))
          throw invalidArgument('kinds', `unknown kind "${k}" (kinds: ${EVENT_KINDS.join(', ')})`);
      }
      return bus.subscribe({ kinds: req.kinds as EventKind[], signal: ctx.signal });
    },
  };
}

// Wires a relay's ledger registration (economy/registration.ts) to the node: the identity keys, the
// payout account (relay.payout, else the wallet), and the registration content read from the descriptor
// the node publishes. A client (no relay role) and a node without a ledger register nothing.
import type { NodeConfig } from '../config/schema.ts';
import type { LedgerNode } from '../consensus/ledger-node.ts';
import type { Identity } from '../crypto/identity.ts';
import type { IdentityTxs } from '../economy/identity-txs.ts';
import {
  createRegistration,
  defaultRegistrationOptions,
  type RegistrationStatus,
} from '../economy/registration.ts';
import { registrationContent } from '../economy/registration-plan.ts';
import type { Logger } from '../log/logger.ts';
import type { SignedDescriptor } from '../wire/descriptor-types.ts';
import { isRelay } from './options.ts';

export interface RelayRegistrationDeps {
  readonly log: Logger;
  readonly now: () => number;
  readonly ledger: { readonly node: LedgerNode | undefined };
  readonly keys: { readonly identity: Identity; readonly powNonce: bigint };
  readonly wallet: { readonly publicKey: Uint8Array };
  readonly publishing: { descriptor(): SignedDescriptor | undefined };
  /** The node identity's transaction queue (absent without a ledger). */
  readonly txs: Pick<IdentityTxs, 'send'> | undefined;
}

export interface RelayRegistration {
  status(): { readonly registration?: RegistrationStatus };
  start(): void;
  stop(): void;
}

export function createRelayRegistration(
  config: Pick<NodeConfig, 'relay'>,
  deps: RelayRegistrationDeps,
): RelayRegistration {
  const ledger = deps.ledger.node;
  const txs = deps.txs;
  if (ledger === undefined || txs === undefined || !isRelay(config))
    return { status: () => ({}), start: () => {}, stop: () => {} };
  const { payout } = config.relay;
  return createRegistration(
    {
      ...defaultRegistrationOptions,
      validator: config.relay.roles.includes('validator'),
      payoutIsWallet: payout === null,
    },
    {
      log: deps.log,
      now: deps.now,
      ledger,
      txs,
      keys: deps.keys,
      payout: payout === null ? deps.wallet.publicKey : new Uint8Array(Buffer.from(payout, 'hex')),
      content: () => {
        const d = deps.publishing.descriptor();
        return d === undefined ? undefined : registrationContent(d.descriptor, deps.now());
      },
    },
  );
}

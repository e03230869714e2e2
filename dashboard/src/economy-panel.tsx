// The Economy panel: this node as a relay, this node's own receipts, claims and audits, and the network's
// pool, supply, epoch and prices. Each part says why it is empty (a client only, no ledger).
import type { ComponentChildren } from 'preact';
import type { NetworkEconomy, NodeEconomy, RelayEconomy } from './economy.ts';
import { DASH } from './format.ts';

export interface EconomyView {
  /** Whether this node relays (a client only earns nothing). */
  readonly relay: boolean;
  readonly ledger: boolean;
  readonly own: RelayEconomy | undefined;
  readonly node: NodeEconomy | undefined;
  readonly network: NetworkEconomy | undefined;
}

function Row(props: { label: string; value: string | undefined; testid: string }) {
  return (
    <>
      <dt>{props.label}</dt>
      <dd data-testid={props.testid}>
        {props.value === undefined || props.value === '' ? DASH : props.value}
      </dd>
    </>
  );
}

function Part(props: { title: string; testid: string; children: ComponentChildren }) {
  return (
    <div class="part" data-testid={props.testid}>
      <h3>{props.title}</h3>
      {props.children}
    </div>
  );
}

function RelayPart(props: { view: EconomyView }) {
  const { own, relay, ledger } = props.view;
  let empty: string | undefined;
  if (!ledger) empty = 'This node runs no ledger.';
  else if (!relay) empty = 'A client only: this node relays nothing and earns nothing.';
  else if (own === undefined) empty = 'Not registered on the ledger yet.';
  return (
    <Part title="This relay" testid="economy-relay">
      {empty !== undefined || own === undefined ? (
        <p class="muted" data-testid="economy-relay-empty">
          {empty}
        </p>
      ) : (
        <dl>
          <Row
            label="Bond"
            value={own.bond === undefined ? undefined : `${own.bond} credits`}
            testid="economy-bond"
          />
          <Row label="Measured bandwidth" value={own.measured} testid="economy-measured" />
          <Row
            label="Reputation"
            value={own.reputation === undefined ? undefined : `${own.reputation} of 728`}
            testid="economy-reputation"
          />
          <Row
            label="Earned"
            value={own.earned === undefined ? undefined : `${own.earned} credits`}
            testid="economy-earned"
          />
          <Row label="Last settlement" value={own.lastSettlement} testid="economy-last-settlement" />
          <Row label="Open claim" value={own.openClaim} testid="economy-open-claim" />
        </dl>
      )}
    </Part>
  );
}

function NodePart(props: { node: NodeEconomy | undefined }) {
  const n = props.node;
  return (
    <Part title={`This node${n?.epoch === undefined ? '' : `, epoch ${n.epoch}`}`} testid="economy-node">
      {n === undefined ? (
        <p class="muted">No economy without a ledger.</p>
      ) : (
        <dl>
          <Row label="Receipts" value={n.receipts} testid="economy-receipts" />
          <Row label="Claims" value={n.claims} testid="economy-claims" />
          <Row label="Audits" value={n.audits} testid="economy-audits" />
          <Row label="Measurements" value={n.measurements} testid="economy-measurements" />
        </dl>
      )}
    </Part>
  );
}

function NetworkPart(props: { network: NetworkEconomy | undefined }) {
  const w = props.network;
  return (
    <Part title="Network" testid="economy-network">
      {w === undefined ? (
        <p class="muted">No ledger.</p>
      ) : (
        <dl>
          <Row label="Epoch" value={w.epoch} testid="economy-epoch" />
          <Row label="Payout pool" value={w.pool} testid="economy-pool" />
          <Row label="Minted" value={w.minted} testid="economy-minted" />
          <Row label="Burned" value={w.burned} testid="economy-burned" />
          <Row label="Bonded" value={w.bonds} testid="economy-bonds" />
          <Row label="Price" value={w.price} testid="economy-price" />
          <Row label="Relay bond" value={w.relayBond} testid="economy-relay-bond" />
          <Row label="Limits" value={w.limits} testid="economy-limits" />
        </dl>
      )}
    </Part>
  );
}

export function EconomyPanel(props: { view: EconomyView }) {
  return (
    <div class="economy">
      <RelayPart view={props.view} />
      <NodePart node={props.view.node} />
      <NetworkPart network={props.view.network} />
    </div>
  );
}

// The page: a login form until a token works, then the dashboard, refreshed every second and at once
// whenever the event feed says something changed.
import { useEffect, useRef, useState } from 'preact/hooks';
import { getJson, getOptionalJson, isUnauthorized } from './api.ts';
import { BandwidthWindow } from './bandwidth.ts';
import { BandwidthChart } from './bandwidth-chart.tsx';
import { networkEconomy, nodeEconomy, relayEconomy } from './economy.ts';
import { EconomyPanel, type EconomyView } from './economy-panel.tsx';
import { type FeedEvent, readEventFeed } from './events.ts';
import { bytes, DASH, duration, shortId } from './format.ts';
import * as model from './model.ts';
import { identityKeyHex } from './peer-id.ts';
import { forgetToken, loadToken, saveToken } from './token.ts';

const POLL_MS = 1_000;
const LEDGER_POLL_MS = 5_000;
const FEED_RETRY_MS = 5_000;

const WRONG_TOKEN =
  'The daemon refused this token (401 Unauthorized). It changes at every start of the daemon: ' +
  'run `anonnet dashboard` for a fresh link, or copy the token from DATA_DIR/api-token.';

export function App() {
  const [token, setToken] = useState<string | undefined>(loadToken());
  const [loginError, setLoginError] = useState<string | undefined>();
  if (token === undefined)
    return (
      <Login
        error={loginError}
        onToken={(t) => {
          saveToken(t);
          setLoginError(undefined);
          setToken(t);
        }}
      />
    );
  return (
    <Dashboard
      token={token}
      onLogout={(error) => {
        forgetToken();
        setLoginError(error);
        setToken(undefined);
      }}
    />
  );
}

function Login(props: { error: string | undefined; onToken: (t: string) => void }) {
  const [value, setValue] = useState('');
  return (
    <main class="login">
      <h1>AnonNet dashboard</h1>
      {props.error !== undefined && (
        <p class="error" role="alert" data-testid="login-error">
          {props.error}
        </p>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (value.trim() !== '') props.onToken(value.trim());
        }}
      >
        <label>
          API token
          <input
            type="password"
            autocomplete="off"
            value={value}
            onInput={(e) => setValue((e.target as HTMLInputElement).value)}
            data-testid="token-input"
          />
        </label>
        <button type="submit">Open</button>
      </form>
      <p class="hint">
        Run <code>anonnet dashboard</code> for a link that logs in, or paste the token from{' '}
        <code>DATA_DIR/api-token</code> (the testnet's: <code>node-0/api-token</code>).
      </p>
    </main>
  );
}

interface View {
  overview: model.Overview | undefined;
  circuits: model.Circuit[];
  peers: number | undefined;
  ledger: model.Ledger | undefined;
  economy: EconomyView | undefined;
  updatedAt: number | undefined;
}

/** What the ledger poll read: shown until the next one. */
interface LedgerRead {
  readonly view: model.Ledger | undefined;
  readonly status: unknown;
  readonly relays: unknown;
}

function Dashboard(props: { token: string; onLogout: (error?: string) => void }) {
  const [view, setView] = useState<View>({
    overview: undefined,
    circuits: [],
    peers: undefined,
    ledger: undefined,
    economy: undefined,
    updatedAt: undefined,
  });
  const [problem, setProblem] = useState<string | undefined>();
  const [feed, setFeed] = useState<'connecting' | 'live' | 'none'>('connecting');
  const bandwidth = useRef(new BandwidthWindow());
  const [samples, setSamples] = useState(0);

  useEffect(() => {
    const stop = new AbortController();
    const signal = stop.signal;
    const { token, onLogout } = props;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let running = false;
    let again = false;
    let lastLedger = 0;
    let ledgerRead: LedgerRead | undefined;

    const fail = (err: unknown) => {
      if (signal.aborted) return;
      if (isUnauthorized(err)) {
        stop.abort();
        onLogout(WRONG_TOKEN);
        return;
      }
      setProblem((err as Error).message);
    };

    const refresh = async () => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      clearTimeout(timer);
      try {
        const [status, circuits, peers, rates] = await Promise.all([
          getJson('/api/v1/status', token, signal),
          getJson('/api/v1/circuits', token, signal),
          getJson('/api/v1/peers', token, signal),
          getOptionalJson('/api/v1/bandwidth', token, signal),
        ]);
        const overview = model.overview(status);
        if (Date.now() - lastLedger >= LEDGER_POLL_MS) {
          lastLedger = Date.now();
          ledgerRead = await readLedger(overview, token, signal);
        }
        if (bandwidth.current.merge(model.bandwidthHistory(rates))) setSamples((n) => n + 1);
        setView({
          overview,
          circuits: model.circuits(circuits),
          peers: model.peerCount(peers) ?? overview.peers,
          ledger: ledgerRead?.view,
          economy: {
            relay: overview.roles.includes('relay'),
            ledger: overview.ledger,
            own: relayEconomy(ledgerRead?.relays, accountOf(overview)),
            node: nodeEconomy(status),
            network: networkEconomy(ledgerRead?.status),
          },
          updatedAt: Date.now(),
        });
        setProblem(undefined);
      } catch (err) {
        fail(err);
      } finally {
        running = false;
        if (!signal.aborted) {
          if (again) {
            again = false;
            void refresh();
          } else timer = setTimeout(() => void refresh(), POLL_MS);
        }
      }
    };

    // Events only wake a refresh; a burst of them becomes one refresh.
    let wake: ReturnType<typeof setTimeout> | undefined;
    const onEvent = (e: FeedEvent) => {
      setFeed('live');
      if (e.type === 'blockCommitted') lastLedger = 0;
      if (wake === undefined)
        wake = setTimeout(() => {
          wake = undefined;
          void refresh();
        }, 150);
    };
    const followFeed = async () => {
      while (!signal.aborted) {
        try {
          const had = await readEventFeed('/api/v1/events', token, signal, onEvent, () => setFeed('live'));
          if (!had) {
            setFeed('none');
            return;
          }
        } catch (err) {
          if (signal.aborted) return;
          if (isUnauthorized(err)) return fail(err);
        }
        setFeed('connecting');
        await new Promise((r) => setTimeout(r, FEED_RETRY_MS));
      }
    };

    void refresh();
    void followFeed();
    return () => {
      stop.abort();
      clearTimeout(timer);
      clearTimeout(wake);
    };
  }, [props.token]);

  const o = view.overview;
  const percent = o?.percent;
  return (
    <main>
      <header>
        <h1>AnonNet</h1>
        <span class="muted" title={o?.peerId}>
          {o?.peerId === undefined ? '' : shortId(o.peerId)} {o?.version === undefined ? '' : `v${o.version}`}
        </span>
        <span class="spacer" />
        <span class={`feed ${feed}`} title="event feed">
          {feed === 'live' ? 'live' : feed === 'none' ? 'polling' : 'connecting…'}
        </span>
        <button type="button" onClick={() => props.onLogout()}>
          Log out
        </button>
      </header>
      {problem !== undefined && (
        <p class="error" role="alert" data-testid="error">
          {problem}
        </p>
      )}

      <section class="bootstrap">
        <div class="bar">
          <div class="fill" style={{ width: `${percent ?? 0}%` }} />
        </div>
        <p>
          Bootstrapped{' '}
          <strong data-testid="bootstrap-percent">{percent === undefined ? DASH : `${percent}%`}</strong>{' '}
          <span data-testid="bootstrap-phase">{o?.phase === undefined ? '' : `(${o.phase})`}</span>{' '}
          <span class="muted">{o?.summary ?? ''}</span>
        </p>
      </section>

      <section class="cards">
        <Card label="Peers" value={view.peers} testid="peers" />
        <Card label="Relays known" value={o?.relaysKnown} testid="relays-known" />
        <Card label="Circuits" value={view.circuits.length} testid="circuits-count" />
        <Card
          label="Relay role"
          value={o === undefined ? undefined : o.roles.join(', ') || 'client only'}
          testid="roles"
        />
        <Card label="Circuits relayed" value={o?.relayedCircuits} testid="relayed" />
        <Card label="Credits" value={view.ledger?.credits} testid="credits" />
        <Card label="Ledger height" value={view.ledger?.height} testid="ledger-height" />
        <Card label="Earnings" value={view.ledger?.earned} testid="earnings" />
        <Card
          label="Uptime"
          value={o?.uptimeMs === undefined ? undefined : duration(o.uptimeMs)}
          testid="uptime"
        />
      </section>

      <section>
        <h2>Bandwidth</h2>
        <BandwidthChart series={bandwidth.current.series} version={samples} />
      </section>

      <section>
        <h2>Circuits</h2>
        <CircuitTable circuits={view.circuits} />
      </section>

      {view.economy !== undefined && (
        <section data-testid="economy">
          <h2>Economy</h2>
          <EconomyPanel view={view.economy} />
        </section>
      )}
    </main>
  );
}

/** The node identity's ledger account: from the status, or derived from the peer id (older daemons). */
function accountOf(overview: model.Overview): string | undefined {
  if (overview.identityKey !== undefined) return overview.identityKey;
  return overview.peerId === undefined ? undefined : identityKeyHex(overview.peerId);
}

/** Credits, height, the relay list and the economy, or undefined (shown as "—") without a ledger. */
async function readLedger(
  overview: model.Overview,
  token: string,
  signal: AbortSignal,
): Promise<LedgerRead | undefined> {
  if (!overview.ledger) return undefined;
  const status = await getOptionalJson('/api/v1/ledger', token, signal);
  if (status === undefined) return undefined;
  const key = accountOf(overview);
  // Credits: the wallet's balance from the status; an older daemon's node-identity account otherwise.
  const wallet = overview.walletBalance;
  const [account, relays] = await Promise.all([
    wallet !== undefined
      ? { balance: wallet }
      : key === undefined
        ? undefined
        : getOptionalJson(`/api/v1/ledger/accounts/${key}`, token, signal),
    getOptionalJson('/api/v1/ledger/relays', token, signal),
  ]);
  const earned = relayEconomy(relays, key)?.earned;
  return { view: model.ledger(status, account, earned), status, relays };
}

function Card(props: { label: string; value: string | number | undefined; testid: string }) {
  return (
    <div class="card">
      <div class="label">{props.label}</div>
      <div class="value" data-testid={props.testid}>
        {props.value === undefined || props.value === '' ? DASH : String(props.value)}
      </div>
    </div>
  );
}

function CircuitTable(props: { circuits: model.Circuit[] }) {
  if (props.circuits.length === 0) return <p class="muted">No circuits yet.</p>;
  return (
    <table class="circuits">
      <thead>
        <tr>
          <th>Circuit</th>
          <th>State</th>
          <th>Hops (guard → exit)</th>
          <th>Age</th>
          <th>Streams</th>
          <th>In</th>
          <th>Out</th>
        </tr>
      </thead>
      <tbody>
        {props.circuits.map((c) => (
          <tr key={c.id} data-testid="circuit" data-hops={c.hops.length}>
            <td title={c.id}>{shortId(c.id)}</td>
            <td>{c.state}</td>
            <td class="hops">
              {c.hops.map((h, i) => (
                <span key={`${i}:${h}`} class="hop" title={h} data-testid="hop" data-relay={h}>
                  {shortId(h)}
                </span>
              ))}
            </td>
            <td>{duration(c.ageMs)}</td>
            <td>{c.streams ?? DASH}</td>
            <td>{bytes(c.bytesIn)}</td>
            <td>{bytes(c.bytesOut)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

// Bootstrap progress, like Tor's "Bootstrapped 45% (peers)": phases in a fixed order, never backwards.

export const PHASES = {
  starting: { percent: 0, summary: 'Starting' },
  identity: { percent: 10, summary: 'Identity loaded' },
  listening: { percent: 25, summary: 'Listening for peers' },
  peers: { percent: 45, summary: 'Connected to peers' },
  dht: { percent: 65, summary: 'Joined the DHT and published our descriptor' },
  relays: { percent: 80, summary: 'Learning relays' },
  done: { percent: 100, summary: 'Done: enough relays known' },
} as const;

export type Phase = keyof typeof PHASES;

export interface ProgressEvent {
  readonly percent: number;
  readonly phase: Phase;
  readonly summary: string;
}

export class BootstrapProgress {
  #current: ProgressEvent = { percent: 0, phase: 'starting', summary: PHASES.starting.summary };
  readonly #listeners = new Set<(e: ProgressEvent) => void>();

  get current(): ProgressEvent {
    return this.#current;
  }

  /** Moves to `phase` (or within the relays phase, to a higher percent); ignores steps backwards. */
  reach(
    phase: Phase,
    percent: number = PHASES[phase].percent,
    summary: string = PHASES[phase].summary,
  ): void {
    const p = Math.min(100, Math.max(0, Math.floor(percent)));
    if (!(p > this.#current.percent)) return; // also refuses NaN, which would unlock going backwards
    this.#current = { percent: p, phase, summary };
    for (const l of this.#listeners) l(this.#current);
  }

  onChange(listener: (e: ProgressEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

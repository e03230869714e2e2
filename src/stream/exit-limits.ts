// What a circuit may make an exit hold, and what the whole process may hold for all circuits together.
// The config file's `exit` section mirrors these (src/config/schema.ts); docs/security.md, section 9.

export interface ExitLimits {
  /**
   * Exit sockets (connecting or open) the process may hold at once: its file-descriptor budget for
   * exits. A BEGIN takes its unit before the name lookup and gives it back when its socket closes.
   * Keep it well below `ulimit -n`: the node needs descriptors for its peers and files too.
   */
  readonly maxSockets: number;
  /** One circuit's share of `maxSockets`. */
  readonly maxSocketsPerCircuit: number;
  /** Once three quarters of `maxSockets` are in use, a circuit holding this many opens no more. */
  readonly busySocketsPerCircuit: number;
  /** BEGINs and RESOLVEs one circuit may send at once... */
  readonly beginBurst: number;
  /** ...and per second after that (a token bucket). */
  readonly beginsPerSecond: number;
  /** Refusals of its own making (rate, share) after which the exit closes the circuit. */
  readonly maxRefusalsPerCircuit: number;
  /** Name lookups in flight in the whole process (each holds a libuv thread-pool slot)... */
  readonly maxLookups: number;
  /** ...and for one circuit; its further lookups wait their turn. */
  readonly maxLookupsPerCircuit: number;
  /**
   * Bytes one circuit's streams may hold in the exit's buffers, both ways together (towards the
   * destinations and towards the circuit). Past it, the stream holding the most is ended (RESOURCELIMIT).
   */
  readonly maxBufferedPerCircuit: number;
}

export const defaultExitLimits: ExitLimits = {
  maxSockets: 4096,
  maxSocketsPerCircuit: 128,
  busySocketsPerCircuit: 16,
  beginBurst: 64,
  beginsPerSecond: 16,
  maxRefusalsPerCircuit: 64,
  maxLookups: 64,
  maxLookupsPerCircuit: 8,
  maxBufferedPerCircuit: 8 * 1024 * 1024,
};

/** What the socket budget says to one more socket for a circuit holding `held`. */
export type BudgetAnswer = 'ok' | 'share' | 'budget';

/** The process-wide count of exit sockets against `maxSockets`, with each circuit's share. */
export class SocketBudget {
  readonly #limits: ExitLimits;
  #used = 0;

  constructor(limits: ExitLimits) {
    this.#limits = limits;
  }

  get used(): number {
    return this.#used;
  }

  check(held: number): BudgetAnswer {
    const l = this.#limits;
    if (held >= l.maxSocketsPerCircuit) return 'share';
    if (this.#used >= l.maxSockets) return 'budget';
    // Busy: heavy circuits stop growing so that light ones (a person's browser) still get sockets.
    if (this.#used * 4 >= l.maxSockets * 3 && held >= l.busySocketsPerCircuit) return 'share';
    return 'ok';
  }

  /** Takes one unit; the returned function gives it back, once. */
  take(): () => void {
    this.#used++;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.#used--;
    };
  }
}

// What every ExitCircuit of one Exit shares (exit.ts builds it, exit-circuit.ts uses it): the socket
// budget, the lookups in flight, the refusal log, and the policy checks.
import type { Logger } from '../log/logger.ts';
import type { RefusalLog } from '../log/refusals.ts';
import type { ExitLimits, SocketBudget } from './exit-limits.ts';

/** Every address a name has (getaddrinfo, as the system resolves it). */
export type LookupFn = (host: string) => Promise<string[]>;

export class ExitStats {
  opened = 0;
  refused = 0;
  failed = 0;
}

/** What every ExitCircuit shares. */
export interface ExitCore {
  readonly enabled: boolean;
  readonly limits: ExitLimits;
  readonly connectTimeoutMs: number;
  readonly budget: SocketBudget;
  readonly stats: ExitStats;
  readonly refusals: RefusalLog;
  readonly log: Logger;
  readonly now: () => number;
  readonly lookup: LookupFn;
  lookupsInFlight: number;
  portAccepted(port: number): boolean;
  allowedAddress(ip: string, port: number): boolean;
  publicOrAllowed(ip: string): boolean;
  isIpLiteral(host: string): boolean;
}

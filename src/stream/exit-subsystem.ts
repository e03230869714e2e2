// The exit side: the sockets this relay opens for circuits that end here (only with the exit role).
import { parseExitPolicy } from '../directory/exit-policy.ts';
import type { Logger } from '../log/logger.ts';
import { Exit, type ExitLimits } from './exit.ts';

export type ExitSubsystemOptions = ExitLimits & {
  readonly roles: readonly string[];
  /** Tor-style rules, first match wins. */
  readonly exitPolicy: readonly string[];
  /** Let exit streams reach 127.0.0.0/8 and ::1 (local test networks only). */
  readonly allowLoopback: boolean;
  readonly connectTimeoutMs: number;
};

/** The part of the node status the exit owns: sockets and lookups held now, refusals by code. */
export interface ExitStatus {
  readonly sockets: number;
  readonly lookups: number;
  readonly refused: Record<string, number>;
}

export interface ExitSubsystem {
  readonly exit: Exit;
  status(): ExitStatus;
  stop(): void;
}

export function createExit(opts: ExitSubsystemOptions, deps: { readonly log: Logger }): ExitSubsystem {
  const { roles, exitPolicy, allowLoopback, connectTimeoutMs, ...limits } = opts;
  const exit = new Exit(
    {
      enabled: roles.includes('exit'),
      policy: parseExitPolicy(exitPolicy),
      allowLoopback,
      connectTimeoutMs,
      limits,
    },
    { log: deps.log },
  );
  return {
    exit,
    status: () => ({
      sockets: exit.socketsInUse,
      lookups: exit.lookupsInFlight,
      refused: Object.fromEntries(exit.refusals.counts),
    }),
    stop: () => {},
  };
}

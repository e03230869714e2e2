// TEST ONLY: fault injection for the multi-process tamper test (test/e2e/tamper.test.ts). Never part
// of a real deployment: the daemon refuses to start with it unless it runs in loopback test-network
// mode (private addresses and same-subnet paths allowed, as `anonnet testnet` sets).
//
// ANONNET_TEST_TAMPER_FILE=<path>: once a file exists at <path>, the first relay of the testnet that
// passes a cell back towards a client claims it (an atomic rename to <path>.<pid>, so exactly one
// process wins) and flips one bit in the body of that cell. One cell, once: the client must detect it
// and tear that circuit down; everything after it is untouched.
import { existsSync, renameSync } from 'node:fs';
import { CELL_HEADER_BYTES } from '../wire/cell.ts';

export const TAMPER_ENV = 'ANONNET_TEST_TAMPER_FILE';

export class FaultInjectionRefusedError extends Error {
  override readonly name = 'FaultInjectionRefusedError';
  readonly code = 'FAULT_INJECTION_REFUSED';
}

export interface CellTamperer {
  /** May change the cell in place; 'drop' (used by in-process tests) means it is not passed on. */
  readonly tamper: (cell: Uint8Array, direction: 'forward' | 'backward') => undefined | 'drop';
  stop(): void;
}

/** The injector named by the environment, or undefined when the variable is not set. */
export function tampererFromEnv(
  env: NodeJS.ProcessEnv,
  testnetMode: boolean,
  pollMs = 100,
): CellTamperer | undefined {
  const file = env[TAMPER_ENV];
  if (file === undefined || file === '') return undefined;
  if (!testnetMode)
    throw new FaultInjectionRefusedError(
      `${TAMPER_ENV} is a test-only fault injection, refused outside a loopback test network`,
    );
  let triggered = false;
  let done = false;
  // A cheap flag for the hot path; the file system is touched only by the poller and one claim.
  const poller = setInterval(() => {
    if (!done && existsSync(file)) triggered = true;
  }, pollMs);
  poller.unref();
  return {
    tamper(cell, direction) {
      if (!triggered || done || direction !== 'backward') return undefined;
      done = true;
      clearInterval(poller);
      try {
        renameSync(file, `${file}.${process.pid}`);
      } catch {
        return undefined; // another relay claimed it first
      }
      cell[CELL_HEADER_BYTES + 100]! ^= 0x01;
      return undefined;
    },
    stop() {
      clearInterval(poller);
    },
  };
}

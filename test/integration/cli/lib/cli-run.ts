// Runs the `anonnet` CLI as a separate process, as a user does, against data directories the test makes
// (the API token and address, and the keys the CLI signs with).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Identity } from '../../../../src/crypto/identity.ts';

const root = new URL('../../../../', import.meta.url).pathname;
const NODE = join(root, 'node_modules/.bin/node');
const MAIN = join(root, 'src/cli/main.ts');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** One CLI run; a run ended by a signal reports it in stderr (code -1), so a failure says why. */
export function runCli(args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(NODE, [MAIN, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err !== null && typeof err.code !== 'number') {
        resolve({ code: -1, stdout, stderr: `${stderr}[ended: ${err.signal ?? err.code ?? err.message}]` });
        return;
      }
      resolve({ code: err === null ? 0 : (err.code as number), stdout, stderr });
    });
  });
}

export interface DirKeys {
  token?: string;
  api?: string;
  /** The wallet (wallet.key), with a proof of work at powDifficulty when powNonce is given. */
  wallet?: Identity;
  powNonce?: bigint;
  powDifficulty?: number;
  /** The node identity (identity.json), with its proof of work (0 when not given). */
  identity?: Identity;
  identityPow?: bigint;
}

/** Data directories made for one test file, removed together. */
export class DataDirs {
  readonly #dirs: string[] = [];

  make(opts: DirKeys): string {
    const d = mkdtempSync(join(tmpdir(), 'anonnet-cli-'));
    this.#dirs.push(d);
    if (opts.token !== undefined) writeFileSync(join(d, 'api-token'), `${opts.token}\n`, { mode: 0o600 });
    if (opts.api !== undefined) writeFileSync(join(d, 'status.json'), JSON.stringify({ api: opts.api }));
    if (opts.identity !== undefined) {
      const file = {
        version: 1,
        seed: Buffer.from(opts.identity.seed).toString('hex'),
        powNonce: (opts.identityPow ?? 0n).toString(),
      };
      writeFileSync(join(d, 'identity.json'), JSON.stringify(file), { mode: 0o600 });
    }
    if (opts.wallet !== undefined) {
      const file = {
        version: 1,
        seed: Buffer.from(opts.wallet.seed).toString('hex'),
        ...(opts.powNonce === undefined
          ? {}
          : { powNonce: opts.powNonce.toString(), powDifficulty: opts.powDifficulty ?? 0 }),
      };
      writeFileSync(join(d, 'wallet.key'), JSON.stringify(file), { mode: 0o600 });
    }
    return d;
  }

  removeAll(): void {
    for (const d of this.#dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  }
}

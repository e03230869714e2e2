// The node's long-term Ed25519 identity, created on first start and reused afterwards, with its
// proof-of-work nonce. Stored mode 0600; the seed never leaves this file and memory.
import { readFileSync } from 'node:fs';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { generateIdentity, type Identity, identityFromSeed } from '../crypto/identity.ts';
import { solvePow, verifyPow } from '../crypto/pow.ts';
import { writeFileAtomic } from './atomic-file.ts';
import { DaemonError } from './errors.ts';

export interface NodeIdentity {
  readonly identity: Identity;
  readonly powNonce: bigint;
  /** True when this start created the identity. */
  readonly created: boolean;
}

interface IdentityFileV1 {
  version: 1;
  seed: string;
  powNonce: string;
}

const CHUNK = 20_000;

/** Finds a nonce in slices so the event loop (and an abort) is never blocked for long. */
export async function solvePowAsync(
  publicKey: Uint8Array,
  difficulty: number,
  signal?: AbortSignal,
): Promise<bigint> {
  let start = 0n;
  for (;;) {
    signal?.throwIfAborted();
    const nonce = solvePow(publicKey, difficulty, { startNonce: start, maxIterations: CHUNK });
    if (nonce !== undefined) return nonce;
    start += BigInt(CHUNK);
    await yieldToLoop();
  }
}

function parse(text: string, path: string): { seed: Uint8Array; powNonce: bigint } {
  try {
    const v = JSON.parse(text) as Partial<IdentityFileV1>;
    if (v.version !== 1 || typeof v.seed !== 'string' || !/^[0-9a-f]{64}$/.test(v.seed))
      throw new Error('bad fields');
    if (typeof v.powNonce !== 'string' || !/^\d{1,20}$/.test(v.powNonce)) throw new Error('bad powNonce');
    return { seed: Buffer.from(v.seed, 'hex'), powNonce: BigInt(v.powNonce) };
  } catch (err) {
    throw new DaemonError(
      'IDENTITY_FILE',
      `identity file ${path} is damaged (${(err as Error).message}); move it away to create a new identity`,
    );
  }
}

/** Reads an existing identity file, never creating one or redoing work: for tools beside the daemon (the CLI). */
export function readIdentityFile(path: string): { identity: Identity; powNonce: bigint } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new DaemonError('IDENTITY_FILE', `cannot read identity file ${path}: ${(err as Error).message}`);
  }
  const stored = parse(text, path);
  return { identity: identityFromSeed(stored.seed), powNonce: stored.powNonce };
}

export async function loadOrCreateIdentity(
  path: string,
  powDifficulty: number,
  opts: { signal?: AbortSignal } = {},
): Promise<NodeIdentity> {
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new DaemonError('IDENTITY_FILE', `cannot read identity file ${path}: ${(err as Error).message}`);
    }
  }
  const created = text === undefined;
  let identity: Identity;
  let powNonce: bigint;
  if (text === undefined) {
    identity = generateIdentity();
    powNonce = await solvePowAsync(identity.publicKey, powDifficulty, opts.signal);
  } else {
    const stored = parse(text, path);
    identity = identityFromSeed(stored.seed);
    powNonce = stored.powNonce;
    if (verifyPow(identity.publicKey, powNonce, powDifficulty)) return { identity, powNonce, created };
    // The network asks for more work than this identity has done: find a better nonce, same key.
    powNonce = await solvePowAsync(identity.publicKey, powDifficulty, opts.signal);
  }
  const file: IdentityFileV1 = {
    version: 1,
    seed: Buffer.from(identity.seed).toString('hex'),
    powNonce: powNonce.toString(),
  };
  writeFileAtomic(path, `${JSON.stringify(file)}\n`, 0o600);
  return { identity, powNonce, created };
}

// The relay's rotating onion keys (X25519 + ML-KEM-768). A relay keeps the key valid now and, once
// half of its life is gone, the next one, whose window overlaps the current one by a quarter, so a
// client holding a slightly old descriptor still finds a key the relay accepts. Expired private keys
// are deleted: that is what makes old recorded handshakes undecryptable.
import { readFileSync } from 'node:fs';
import { generateOnionKeyPair, type OnionKeyPair, onionKeyPairFromSecrets } from '../crypto/onion-keys.ts';
import { bytesEqual } from '../wire/bytes.ts';
import type { UnixMillis } from '../wire/descriptor-types.ts';
import { writeFileAtomic } from './atomic-file.ts';
import { DaemonError } from './errors.ts';

interface StoredKey {
  x25519Public: string;
  x25519Private: string;
  mlkemPublic: string;
  mlkemSeed: string;
  validFrom: number;
  validUntil: number;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

export function loadOnionKeys(path: string): OnionKeyPair[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new DaemonError('ONION_KEY_FILE', `cannot read onion keys ${path}: ${(err as Error).message}`);
  }
  try {
    const v = JSON.parse(text) as { version?: number; keys?: StoredKey[] };
    if (v.version !== 1 || !Array.isArray(v.keys)) throw new Error('unknown format');
    return v.keys.map((k) => {
      // Rebuilt from the private halves, which checks lengths and the validity window; the stored
      // public halves must match, or the keys would be published and then fail every handshake.
      const pair = onionKeyPairFromSecrets(
        unhex(k.x25519Private),
        unhex(k.mlkemSeed),
        k.validFrom as UnixMillis,
        k.validUntil as UnixMillis,
      );
      if (
        !bytesEqual(pair.x25519Public, unhex(k.x25519Public)) ||
        !bytesEqual(pair.mlkemPublic, unhex(k.mlkemPublic))
      )
        throw new Error('public and private halves differ');
      return pair;
    });
  } catch {
    // Onion keys are short-lived and replaceable: a damaged file means fresh keys, not a dead daemon.
    return [];
  }
}

export function saveOnionKeys(path: string, keys: readonly OnionKeyPair[]): void {
  const stored: StoredKey[] = keys.map((k) => ({
    x25519Public: hex(k.x25519Public),
    x25519Private: hex(k.x25519Private),
    mlkemPublic: hex(k.mlkemPublic),
    mlkemSeed: hex(k.mlkemSeed),
    validFrom: k.validFrom,
    validUntil: k.validUntil,
  }));
  writeFileAtomic(path, `${JSON.stringify({ version: 1, keys: stored })}\n`, 0o600);
}

/** Drops expired keys and adds the current and next ones as needed. Pure apart from key generation. */
export function rotateOnionKeys(
  keys: readonly OnionKeyPair[],
  now: number,
  lifetimeMs: number,
  /** Private keys are kept this long past their window (clients' clocks may lag): the clock skew allowance. */
  graceMs = 0,
): { keys: OnionKeyPair[]; changed: boolean } {
  let changed = false;
  const live = keys.filter((k) => k.validUntil + graceMs > now);
  if (live.length !== keys.length) changed = true;
  live.sort((a, b) => a.validFrom - b.validFrom);
  const current = live.filter((k) => k.validFrom <= now && k.validUntil > now).at(-1);
  let newest = live.at(-1);
  if (current === undefined) {
    const k = generateOnionKeyPair(now as UnixMillis, (now + lifetimeMs) as UnixMillis);
    live.push(k);
    newest = k;
    changed = true;
  }
  if (newest !== undefined && newest.validUntil - now < lifetimeMs / 2) {
    const from = newest.validUntil - Math.floor(lifetimeMs / 4);
    live.push(generateOnionKeyPair(from as UnixMillis, (from + lifetimeMs) as UnixMillis));
    changed = true;
  }
  return { keys: live, changed };
}

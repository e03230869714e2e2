// The control API's bearer token: random, written to the data directory (mode 0600) at every start,
// so only the daemon's user can read it. Compared in constant time.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import { writeFileAtomic } from '../daemon/atomic-file.ts';

export const TOKEN_FILE = 'api-token';

export function createApiToken(dataDir: string): string {
  const token = randomBytes(32).toString('base64url');
  writeFileAtomic(join(dataDir, TOKEN_FILE), `${token}\n`, 0o600);
  return token;
}

export function tokenMatches(expected: string, header: string | undefined): boolean {
  if (header === undefined || !header.startsWith('Bearer ')) return false;
  const a = Buffer.from(header.slice(7).trim());
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

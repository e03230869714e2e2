// npm records only this platform's build of @chainsafe/libp2p-quic in package-lock.json when the
// registry mirror lacks the others, and `npm ci` then refuses the lock ("Missing: ... from lock
// file"). This adds the other platforms' entries (optional, never fetched here). Run it after any
// `npm install` that rewrites the lock: `node scripts/lock-platform-entries.ts`.
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8')) as { packages: Record<string, Record<string, unknown>> };
const quic = lock.packages['node_modules/@chainsafe/libp2p-quic'];
const version = quic?.['version'];
const optional = (quic?.['optionalDependencies'] ?? {}) as Record<string, string>;
const platforms: Record<string, { os: string[]; cpu: string[]; libc?: string[] }> = {
  'darwin-arm64': { os: ['darwin'], cpu: ['arm64'] },
  'darwin-x64': { os: ['darwin'], cpu: ['x64'] },
  'linux-arm64-gnu': { os: ['linux'], cpu: ['arm64'], libc: ['glibc'] },
  'linux-arm64-musl': { os: ['linux'], cpu: ['arm64'], libc: ['musl'] },
  'linux-x64-gnu': { os: ['linux'], cpu: ['x64'], libc: ['glibc'] },
  'linux-x64-musl': { os: ['linux'], cpu: ['x64'], libc: ['musl'] },
  'win32-x64-msvc': { os: ['win32'], cpu: ['x64'] },
};
let added = 0;
for (const [name, p] of Object.entries(platforms)) {
  const pkg = `@chainsafe/libp2p-quic-${name}`;
  const key = `node_modules/${pkg}`;
  if (!(pkg in optional) || key in lock.packages) continue;
  lock.packages[key] = {
    version,
    cpu: p.cpu,
    ...(p.libc ? { libc: p.libc } : {}),
    license: 'MIT',
    optional: true,
    os: p.os,
    engines: { node: '>= 10' },
  };
  added++;
}
const sorted = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) =>
    a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0,
  ),
);
writeFileSync(path, `${JSON.stringify({ ...lock, packages: sorted }, null, 2)}\n`);
process.stdout.write(`added ${added} platform entries\n`);

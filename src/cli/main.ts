#!/usr/bin/env node
// The `anonnet` command line. The on-disk compile cache saves a few hundred ms of start-up per
// process (it matters when a testnet starts many daemons at once); it must be on before the imports.
import { enableCompileCache } from 'node:module';
import { setFlagsFromString } from 'node:v8';

enableCompileCache?.();
// Count ArrayBuffer memory in V8's global heap limit instead of its fixed 64 MB external-memory
// trigger: relaying cells allocates buffers at hundreds of MB/s, and that trigger ran a full
// mark-compact of the ~100 MB daemon heap every 64 MB (about half the CPU of a 3-hop transfer;
// docs/performance.md). Memory stays bounded by the global limit. ANONNET_V8_GC_DEFAULTS=1 keeps
// V8's default, for measuring the difference.
if (process.env.ANONNET_V8_GC_DEFAULTS !== '1') {
  setFlagsFromString('--external-memory-accounted-in-global-limit');
}
await import('./program.ts');

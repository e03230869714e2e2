#!/usr/bin/env node
// The `anonnet` command line. The on-disk compile cache saves a few hundred ms of start-up per
// process (it matters when a testnet starts many daemons at once); it must be on before the imports.
import { enableCompileCache } from 'node:module';

enableCompileCache?.();
await import('./program.ts');

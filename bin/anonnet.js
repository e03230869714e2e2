#!/usr/bin/env node
// Entry point of the `anonnet` command. The code is TypeScript run by Node 24's type stripping.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `anonnet needs Node.js 24 or later (this is ${process.version}).\n` +
      'Inside the repository, run it with `npm run anonnet -- <command>`, which uses the Node 24 that `npm ci` installs.\n',
  );
  process.exit(1);
}
await import('../src/cli/main.ts');

// Writes docs/configuration.md from the config schema (src/cli/config-docs.ts). `--check` only compares.
import { readFileSync, writeFileSync } from 'node:fs';
import { renderConfigDocs } from '../src/cli/config-docs.ts';

const target = new URL('../docs/configuration.md', import.meta.url);
const text = renderConfigDocs();
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {}
  if (current !== text) {
    process.stderr.write('docs/configuration.md is out of date: run `npm run gen:config-docs`\n');
    process.exit(1);
  }
} else {
  writeFileSync(target, text);
  process.stdout.write(`wrote ${target.pathname}\n`);
}

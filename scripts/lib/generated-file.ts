// A file generated from the code (docs/openapi.yaml, docs/configuration.md): written, or with `--check`
// only compared, failing with the command that regenerates it.
import { readFileSync, writeFileSync } from 'node:fs';

export function writeOrCheck(target: URL, text: string, regenerate: string): void {
  const name = target.pathname.slice(target.pathname.lastIndexOf('/docs/') + 1);
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(target, 'utf8');
    } catch {}
    if (current !== text) {
      process.stderr.write(`${name} is out of date: run \`${regenerate}\`\n`);
      process.exit(1);
    }
  } else {
    writeFileSync(target, text);
    process.stdout.write(`wrote ${target.pathname}\n`);
  }
}

// What the API-talking commands share: their flags and the way they end (exit 1 with a clear message).
import type { Command } from 'commander';
import { CliError } from './api-client.ts';

export function addApiFlags(cmd: Command): Command {
  return cmd
    .option('-d, --data-dir <dir>', "the daemon's data directory (default ~/.anonnet); env ANONNET_DATA_DIR")
    .option('--api <host:port>', 'the API address (default: from DATA_DIR/status.json)')
    .option('--json', "print JSON (the API's protobuf JSON) for scripts");
}

export async function runApiCommand(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`anonnet: ${err.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
}

export const printJson = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
};

// `anonnet dashboard`: the dashboard's URL with the token in the fragment (never sent to a server),
// printed, or opened in a browser with --open.
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { type ApiFlags, call, controlClient, locateDaemon } from './api-client.ts';
import { addApiFlags, printJson, runApiCommand } from './api-command.ts';

interface DashboardFlags extends ApiFlags {
  open?: boolean;
}

/** Starts the platform's URL opener; false when there is none. */
function openUrl(url: string): Promise<boolean> {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  return new Promise((resolve) => {
    const child = spawn(cmd, [url], { stdio: 'ignore', detached: true });
    child.once('error', () => resolve(false));
    child.once('spawn', () => {
      child.unref();
      resolve(true);
    });
  });
}

export function addDashboardCommand(program: Command): void {
  addApiFlags(
    program.command('dashboard').description("print (or --open) the running daemon's dashboard URL"),
  )
    .option('--open', 'open it in a browser')
    .action((flags: DashboardFlags) =>
      runApiCommand(async () => {
        const addr = locateDaemon(flags);
        // Check that the daemon answers with this token before handing out a URL.
        await call(addr, (signal) => controlClient(addr).getStatus({}, { signal }));
        const url = `${addr.baseUrl}/#token=${encodeURIComponent(addr.token)}`;
        if (flags.json) return printJson({ url });
        if (flags.open && (await openUrl(url))) {
          process.stdout.write(`opened the dashboard (${addr.baseUrl}/)\n`);
          return;
        }
        if (flags.open) process.stderr.write('anonnet: no browser opener found; open this URL:\n');
        process.stdout.write(`${url}\n`);
      }),
    );
}

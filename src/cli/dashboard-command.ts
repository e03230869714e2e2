// `anonnet dashboard`: the dashboard's URL with the token in the fragment (never sent to a server),
// printed, or opened in a browser with --open (through a redirect page: never the token in argv).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { writeFileAtomic } from '../daemon/atomic-file.ts';
import { type ApiFlags, call, controlClient, locateDaemon } from './api-client.ts';
import { addApiFlags, printJson, runApiCommand } from './api-command.ts';

interface DashboardFlags extends ApiFlags {
  open?: boolean;
}

/** The file --open hands to the browser, in the data directory (0600, like the token itself). */
export const OPEN_FILE = 'dashboard-open.html';

/**
 * Opens `url` in the browser through a local page that redirects to it: the URL carries the token,
 * and a URL given on a command line is visible to every local user (`ps`), as Jupyter found before
 * us. False when the platform has no opener.
 */
function openUrl(url: string, dataDir: string): Promise<boolean> {
  const page = join(dataDir, OPEN_FILE);
  const href = url.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;');
  writeFileAtomic(
    page,
    '<!doctype html><meta charset="utf-8"><meta name="referrer" content="no-referrer">' +
      `<meta http-equiv="refresh" content="0;url=${href}"><title>AnonNet dashboard</title>` +
      `<a href="${href}">Open the AnonNet dashboard</a>\n`,
    0o600,
  );
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  return new Promise((resolve) => {
    const child = spawn(cmd, [pathToFileURL(page).href], { stdio: 'ignore', detached: true });
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
        if (flags.open && (await openUrl(url, addr.dataDir))) {
          process.stdout.write(`opened the dashboard (${addr.baseUrl}/)\n`);
          return;
        }
        if (flags.open) process.stderr.write('anonnet: no browser opener found; open this URL:\n');
        process.stdout.write(`${url}\n`);
      }),
    );
}

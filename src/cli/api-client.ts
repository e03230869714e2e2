// How the CLI finds and talks to a running daemon: the token from DATA_DIR/api-token, the address from
// DATA_DIR/status.json (rewritten by the daemon every 2 s), and a typed Connect client of the same
// service the REST routes serve.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Client, Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { ControlService } from '../api/gen/anonnet/v1/control_pb.js';
import { TOKEN_FILE } from '../api/token.ts';
import { defaultDataDir } from '../config/load.ts';
import { files } from '../daemon/data-dir.ts';
import { CodedError } from '../wire/coded-error.ts';

export class CliError extends CodedError<'NO_DAEMON' | 'BAD_TOKEN' | 'API_ERROR'> {
  override readonly name = 'CliError';
}

export interface ApiFlags {
  dataDir?: string;
  /** host:port or a URL; overrides status.json. */
  api?: string;
  json?: boolean;
}

export interface DaemonAddress {
  /** http://host:port */
  readonly baseUrl: string;
  readonly token: string;
  readonly dataDir: string;
}

const readText = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

function toUrl(hostPort: string): string {
  if (/^https?:\/\//.test(hostPort)) return hostPort.replace(/\/+$/, '');
  // An IPv6 literal without brackets (::1:9080) gets them.
  const m = /^(.*):(\d+)$/.exec(hostPort);
  const host = m?.[1] ?? hostPort;
  return `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${m?.[2] ?? '9080'}`;
}

export function locateDaemon(flags: ApiFlags, env: NodeJS.ProcessEnv = process.env): DaemonAddress {
  const dataDir = flags.dataDir ?? env['ANONNET_DATA_DIR'] ?? defaultDataDir();
  const noDaemon = (why: string) =>
    new CliError(
      'NO_DAEMON',
      `no running daemon found for ${dataDir}: ${why} (start one with \`anonnet node\`)`,
    );
  const token = readText(join(dataDir, TOKEN_FILE))?.trim();
  if (!token) throw noDaemon(`no ${TOKEN_FILE}`);
  let api = flags.api;
  if (api === undefined) {
    const text = readText(join(dataDir, files.status));
    if (text === undefined) throw noDaemon(`no ${files.status} yet`);
    try {
      const status = JSON.parse(text) as { api?: unknown };
      if (typeof status.api === 'string') api = status.api;
    } catch {
      throw noDaemon(`${files.status} is not readable`);
    }
    if (api === undefined) throw noDaemon('its control API is off');
  }
  return { baseUrl: toUrl(api), token, dataDir };
}

export type ControlClient = Client<typeof ControlService>;

export function controlClient(addr: DaemonAddress): ControlClient {
  return createClient(
    ControlService,
    createConnectTransport({
      baseUrl: addr.baseUrl,
      httpVersion: '1.1',
      interceptors: [
        (next) => (req) => {
          req.header.set('authorization', `Bearer ${addr.token}`);
          return next(req);
        },
      ],
    }),
  );
}

/** One call with a deadline; transport and API failures become CliErrors with a clear message. */
export async function call<T>(
  addr: DaemonAddress,
  fn: (signal: AbortSignal) => Promise<T>,
  timeoutMs = 10_000,
): Promise<T> {
  try {
    return await fn(AbortSignal.timeout(timeoutMs));
  } catch (err) {
    const ce = ConnectError.from(err);
    if (ce.code === Code.Unauthenticated)
      throw new CliError('BAD_TOKEN', `the daemon at ${addr.baseUrl} refused the token in ${addr.dataDir}`);
    if (ce.code === Code.Unavailable || ce.code === Code.Unknown || ce.code === Code.DeadlineExceeded) {
      if (ce.metadata.get('anonnet-error-code') === null)
        throw new CliError(
          'NO_DAEMON',
          `no daemon answers at ${addr.baseUrl} (data directory ${addr.dataDir}): ${ce.rawMessage}`,
        );
    }
    throw new CliError(
      'API_ERROR',
      `${ce.metadata.get('anonnet-error-code') ?? Code[ce.code]}: ${ce.rawMessage}`,
    );
  }
}

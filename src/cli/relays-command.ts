// `anonnet relays`: the relays the running daemon knows (verified descriptors).
import { toJson } from '@bufbuild/protobuf';
import type { Command } from 'commander';
import { ListRelaysResponseSchema } from '../api/gen/anonnet/v1/node_pb.js';
import { type ApiFlags, call, controlClient, locateDaemon } from './api-client.ts';
import { addApiFlags, printJson, runApiCommand } from './api-command.ts';
import { bytes, duration, table } from './table.ts';

export function addRelaysCommand(program: Command): void {
  addApiFlags(program.command('relays').description('list the relays the running daemon knows')).action(
    (flags: ApiFlags) =>
      runApiCommand(async () => {
        const addr = locateDaemon(flags);
        const client = controlClient(addr);
        const res = await call(addr, (signal) => client.listRelays({}, { signal }));
        if (flags.json) return printJson(toJson(ListRelaysResponseSchema, res, { alwaysEmitImplicit: true }));
        if (res.relays.length === 0) return void process.stdout.write('no relays known\n');
        const now = Date.now();
        process.stdout.write(
          table(
            ['PEER', 'ROLES', 'BANDWIDTH', 'EXPIRES IN'],
            res.relays.map((r) => [
              r.peerId,
              r.roles.join(',') || '-',
              `${bytes(r.bandwidth)}/s`,
              r.expiresAt > now ? duration(r.expiresAt - now) : 'expired',
            ]),
          ),
        );
      }),
  );
}

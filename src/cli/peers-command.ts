// `anonnet peers`: the running daemon's connections, with their transports.
import { toJson } from '@bufbuild/protobuf';
import type { Command } from 'commander';
import { ListPeersResponseSchema } from '../api/gen/anonnet/v1/node_pb.js';
import { type ApiFlags, call, controlClient, locateDaemon } from './api-client.ts';
import { addApiFlags, printJson, runApiCommand } from './api-command.ts';
import { table } from './table.ts';

export function addPeersCommand(program: Command): void {
  addApiFlags(program.command('peers').description("list the running daemon's peers")).action(
    (flags: ApiFlags) =>
      runApiCommand(async () => {
        const addr = locateDaemon(flags);
        const client = controlClient(addr);
        const res = await call(addr, (signal) => client.listPeers({}, { signal }));
        if (flags.json) return printJson(toJson(ListPeersResponseSchema, res, { alwaysEmitImplicit: true }));
        const byTransport = Object.entries(res.transports)
          .map(([t, n]) => `${t} ${n}`)
          .join(', ');
        process.stdout.write(`${res.count} peers${byTransport ? ` (${byTransport})` : ''}\n`);
        if (res.peers.length > 0)
          process.stdout.write(
            table(
              ['PEER', 'DIRECTION', 'TRANSPORT', 'ADDRESS'],
              res.peers.map((p) => [p.peerId, p.direction, p.transport, p.remoteAddr]),
            ),
          );
      }),
  );
}

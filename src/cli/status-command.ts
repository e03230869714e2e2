// `anonnet status`: the running daemon's bootstrap, identity, peers, circuits and bandwidth.
import { toJson } from '@bufbuild/protobuf';
import type { Command } from 'commander';
import { NodeStatusSchema } from '../api/gen/anonnet/v1/node_pb.js';
import { type ApiFlags, call, controlClient, locateDaemon } from './api-client.ts';
import { addApiFlags, printJson, runApiCommand } from './api-command.ts';
import { bytes, duration } from './table.ts';

export function addStatusCommand(program: Command): void {
  addApiFlags(program.command('status').description("show the running daemon's status")).action(
    (flags: ApiFlags) =>
      runApiCommand(async () => {
        const addr = locateDaemon(flags);
        const client = controlClient(addr);
        const s = await call(addr, (signal) => client.getStatus({}, { signal }));
        if (flags.json) return printJson(toJson(NodeStatusSchema, s, { alwaysEmitImplicit: true }));
        const bw = await call(addr, (signal) => client.getBandwidth({}, { signal }));
        const b = s.bootstrap;
        const lines = [
          `AnonNet ${s.version} (pid ${s.pid}), up ${duration(s.uptimeMs)}`,
          `Identity   ${s.peerId}`,
          `Roles      ${s.roles.join(', ') || '-'}`,
          `Bootstrap  ${b?.percent ?? 0}% (${b?.phase ?? '?'}): ${b?.summary ?? ''}`,
          `Peers      ${s.peers}    relays known ${s.relaysKnown}`,
          `Circuits   ${s.circuitsOpen} open    relaying ${s.relayedCircuits}`,
          `Bandwidth  read ${bytes(bw.readBytesPerSecond)}/s    written ${bytes(bw.writtenBytesPerSecond)}/s`,
          `SOCKS      ${s.socks ?? 'off'}    HTTP proxy ${s.http ?? 'off'}    API ${s.api ?? addr.baseUrl}`,
          `Ledger     ${s.ledger ? 'on' : 'off'}`,
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      }),
  );
}

// `anonnet circuits`: this client's circuits (id, state, age, streams, bytes, hops).
import { toJson } from '@bufbuild/protobuf';
import type { Command } from 'commander';
import { ListCircuitsResponseSchema } from '../api/gen/anonnet/v1/circuits_pb.js';
import { type ApiFlags, call, controlClient, locateDaemon } from './api-client.ts';
import { addApiFlags, printJson, runApiCommand } from './api-command.ts';
import { bytes, duration, shortId, table } from './table.ts';

export function addCircuitsCommand(program: Command): void {
  addApiFlags(program.command('circuits').description("list the running daemon's circuits")).action(
    (flags: ApiFlags) =>
      runApiCommand(async () => {
        const addr = locateDaemon(flags);
        const client = controlClient(addr);
        const res = await call(addr, (signal) => client.listCircuits({}, { signal }));
        if (flags.json)
          return printJson(toJson(ListCircuitsResponseSchema, res, { alwaysEmitImplicit: true }));
        if (res.circuits.length === 0) return void process.stdout.write('no circuits\n');
        process.stdout.write(
          table(
            ['ID', 'STATE', 'AGE', 'STREAMS', 'IN', 'OUT', 'HOPS'],
            res.circuits.map((c) => [
              c.id,
              c.state,
              duration(c.ageMs),
              String(c.streams),
              bytes(c.bytesIn),
              bytes(c.bytesOut),
              c.hops.map(shortId).join(' > '),
            ]),
          ),
        );
      }),
  );
}

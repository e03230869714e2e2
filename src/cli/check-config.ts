// `anonnet node --check-config`: the configuration the daemon would start with, validated and summed
// up without starting anything (no data-directory lock, no ports). Beyond the schema it runs the
// checks the daemon would make at start on values the schema keeps as strings.
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/load.ts';
import type { NodeConfig } from '../config/schema.ts';
import { identityKeyOfPeerId } from '../directory/dht-records.ts';
import { parseExitPolicy } from '../directory/exit-policy.ts';
import { parseGenesis } from '../ledger/genesis.ts';

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Problems the schema cannot see, one line each ("field: reason"); empty when there are none. */
export function deepConfigProblems(config: NodeConfig): string[] {
  const problems: string[] = [];
  try {
    parseExitPolicy(config.relay.exitPolicy);
  } catch (err) {
    problems.push(`relay.exitPolicy: ${message(err)}`);
  }
  for (const id of config.relay.family) {
    if (identityKeyOfPeerId(id) === undefined) problems.push(`relay.family: ${id} is not an Ed25519 PeerId`);
  }
  const genesis = config.ledger.genesis;
  if (genesis !== null) {
    try {
      parseGenesis(readFileSync(genesis, 'utf8'));
    } catch (err) {
      problems.push(`ledger.genesis: ${message(err)}`);
    }
  }
  return problems;
}

/** Throws a ConfigError listing what `deepConfigProblems` found. */
export function assertDeepConfig(config: NodeConfig): void {
  const problems = deepConfigProblems(config);
  if (problems.length > 0) {
    throw new ConfigError(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

/** A few lines saying what the daemon would run. */
export function configSummary(config: NodeConfig): string {
  const port = (p: number | null) => (p === null ? 'off' : `${config.proxy.host}:${p}`);
  return [
    'configuration ok',
    `  data directory  ${config.dataDir}`,
    `  roles           ${config.relay.roles.join(', ')}`,
    `  listen          ${config.p2p.listen.join(' ')}`,
    `  bootstrap peers ${config.p2p.bootstrap.length}`,
    `  socks proxy     ${port(config.proxy.socksPort)}`,
    `  http proxy      ${port(config.proxy.httpPort)}`,
    `  control api     ${config.api.port === null ? 'off' : `${config.api.host}:${config.api.port}`}`,
    `  circuits        ${config.circuits.hops} hops, ${config.circuits.prebuilt} prebuilt`,
    `  ledger          ${config.ledger.genesis ?? 'off (no genesis)'}`,
  ].join('\n');
}

// One flag per config field, generated from the schema (src/config/fields.ts): --relay-limits-max-circuits
// sets relay.limits.maxCircuits. Fields that already have a flag of that exact name (--data-dir,
// --api-port, ...) keep it; the short historical flags of node-command.ts stay beside these.
import { type Command, Option } from 'commander';
import { getPath, type Plain, parseFieldValue, setPath, splitList } from '../config/field-values.ts';
import { type ConfigField, configFields } from '../config/fields.ts';
import { configSchema } from '../config/schema.ts';

const HELP_GROUP = 'Config fields (one per field of the config file; lists comma-separated):';

const attributeOf = (field: ConfigField): string => new Option(`--${field.flag}`).attributeName();

function describe(field: ConfigField, defaults: unknown): string {
  const value = getPath(defaults, field.path);
  const shown = value === undefined ? '' : ` (default ${JSON.stringify(value)})`;
  return `${field.path.join('.')}${shown}; env ${field.env}`;
}

// Values stay strings until configFromFieldFlags: commander turns a parser's null into ''.
function optionOf(field: ConfigField, defaults: unknown): Option {
  const help = describe(field, defaults);
  if (field.kind === 'boolean') {
    // `--x` alone is true; `--x false` turns off what a file or the environment turned on.
    return new Option(`--${field.flag} [bool]`, help);
  }
  if (field.kind === 'list') {
    // Repeatable, each value comma-separated.
    return new Option(`--${field.flag} <items>`, help).argParser((v: string, prev: unknown) => [
      ...(Array.isArray(prev) ? prev : []),
      ...splitList(v),
    ]);
  }
  const arg = field.nullable ? '<value|null>' : '<value>';
  return new Option(`--${field.flag} ${arg}`, help);
}

/** Adds the flag of every config field that `cmd` does not have under that name already. */
export function addConfigFieldOptions(cmd: Command): Command {
  const taken = new Set(cmd.options.map((o) => o.long));
  // Defaults shown in the help: what an empty config parses to (dataDir has none of its own here).
  const defaults = configSchema.safeParse({ dataDir: '~/.anonnet' }).data;
  for (const field of configFields()) {
    if (taken.has(`--${field.flag}`)) continue;
    cmd.addOption(optionOf(field, defaults).helpGroup(HELP_GROUP));
  }
  return cmd;
}

/** The config-field flags that were given, shaped like the config file. */
export function configFromFieldFlags(opts: Readonly<Record<string, unknown>>): Plain {
  const out: Plain = {};
  for (const field of configFields()) {
    const given = opts[attributeOf(field)];
    setPath(out, field.path, typeof given === 'string' ? parseFieldValue(field, given) : given);
  }
  return out;
}

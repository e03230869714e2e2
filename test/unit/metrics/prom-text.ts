// A strict reader of the Prometheus text exposition format (0.0.4), for tests: every sample must
// belong to a family declared by `# TYPE`, with a valid name, labels and value.
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Family {
  readonly name: string;
  readonly type: string;
  help: string | undefined;
  readonly samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( -?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Record<string, readonly string[]> = {
  counter: [''],
  gauge: [''],
  untyped: [''],
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function parseValue(s: string): number {
  if (s === '+Inf') return Number.POSITIVE_INFINITY;
  if (s === '-Inf') return Number.NEGATIVE_INFINITY;
  // Prometheus parses floats as Go does: NaN in any case (prom-client writes "Nan" for unsampled lag).
  if (s.toLowerCase() === 'nan') return Number.NaN;
  if (!NUMBER.test(s)) throw new Error(`bad value ${s}`);
  return Number(s);
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  let at = 0;
  while (at < text.length) {
    LABEL.lastIndex = at;
    const m = LABEL.exec(text);
    if (m === null) throw new Error(`bad labels in: ${line}`);
    const [, key, value] = m;
    if (key === undefined || value === undefined || key in labels) throw new Error(`bad labels in: ${line}`);
    labels[key] = value.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    at = LABEL.lastIndex;
  }
  return labels;
}

/** Parses the whole exposition; throws on the first line that is not valid. */
export function parsePromText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('exposition must end with a newline');
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# HELP ')) {
      const [name, ...rest] = line.slice(7).split(' ');
      if (name === undefined || !NAME.test(name)) throw new Error(`bad HELP: ${line}`);
      const f = families.get(name);
      if (f) f.help = rest.join(' ');
      else families.set(name, { name, type: 'untyped', help: rest.join(' '), samples: [] });
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const [name, type, extra] = line.slice(7).split(' ');
      if (name === undefined || !NAME.test(name) || type === undefined || !TYPES.has(type) || extra)
        throw new Error(`bad TYPE: ${line}`);
      const f = families.get(name);
      if (f && f.samples.length > 0) throw new Error(`TYPE after samples: ${line}`);
      families.set(name, { name, type, help: f?.help, samples: [] });
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (m === null) throw new Error(`bad sample line: ${line}`);
    const [, name, , labelText, value] = m;
    if (name === undefined || value === undefined) throw new Error(`bad sample line: ${line}`);
    const family = [...families.values()].find((f) =>
      (SUFFIXES[f.type] ?? ['']).some((s) => f.name + s === name),
    );
    if (family === undefined) throw new Error(`sample of an undeclared family: ${line}`);
    family.samples.push({ name, labels: parseLabels(labelText ?? '', line), value: parseValue(value) });
  }
  return families;
}

/** The value of one sample (by exact name and labels), or undefined. */
export function sampleValue(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const f of families.values())
    for (const s of f.samples)
      if (
        s.name === name &&
        Object.keys(labels).length === Object.keys(s.labels).length &&
        Object.entries(labels).every(([k, v]) => s.labels[k] === v)
      )
        return s.value;
  return undefined;
}

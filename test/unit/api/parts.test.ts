// The API's small parts: the bandwidth meter, the config patch rules, transaction byte decoding.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validatePatch, WRITABLE, withoutSecrets } from '../../../src/api/config-patch.ts';
import { decodeTxBytes } from '../../../src/api/control-service.ts';
import { ApiError } from '../../../src/api/errors.ts';
import { configSchema } from '../../../src/config/schema.ts';
import { BandwidthMeter } from '../../../src/metrics/bandwidth.ts';

test('bandwidth: per-second rates from cumulative counters over the real interval', () => {
  const c = { read: 0, written: 0 };
  const m = new BandwidthMeter(() => c);
  m.sample(1000);
  c.read = 4096;
  c.written = 1024;
  m.sample(2000);
  c.read = 4096 + 2048;
  m.sample(4000); // two seconds: half the rate
  const s = m.snapshot();
  assert.equal(s.readBytesPerSecond, 1024);
  assert.equal(s.writtenBytesPerSecond, 0);
  assert.equal(s.readBytesTotal, 6144);
  assert.deepEqual(
    s.history?.map((h) => h.readBytesPerSecond),
    [4096, 1024],
  );
  for (let t = 5000; t < 100_000; t += 1000) m.sample(t);
  assert.equal(m.snapshot().history?.length, 60);
});

test('config patch: writable fields only, values checked, field named', () => {
  assert.deepEqual(validatePatch({ logLevel: 'warn', circuits: { prebuilt: 0 } }), [
    { path: 'logLevel', value: 'warn' },
    { path: 'circuits.prebuilt', value: 0 },
  ]);
  const fieldOf = (patch: Parameters<typeof validatePatch>[0]) => {
    try {
      validatePatch(patch);
      return 'accepted';
    } catch (err) {
      assert.ok(err instanceof ApiError);
      return err.field;
    }
  };
  assert.equal(fieldOf({ api: { host: '0.0.0.0' } }), 'api.host');
  assert.equal(fieldOf({ circuits: { prebuilt: 1.5 } }), 'circuits.prebuilt');
  assert.equal(fieldOf({ logLevel: null }), 'logLevel');
  assert.equal(fieldOf({}), 'patch');
});

test('every writable value the API accepts is one the config schema accepts too', () => {
  const samples: Record<string, unknown[]> = {
    logLevel: ['trace', 'silent', 'loud'],
    'circuits.prebuilt': [0, 32, 33, -1],
  };
  for (const [path, values] of Object.entries(samples)) {
    const schema = WRITABLE.get(path)!;
    for (const v of values) {
      const [a, b] = path.split('.');
      const input = b === undefined ? { dataDir: '/x', [a!]: v } : { dataDir: '/x', [a!]: { [b]: v } };
      assert.equal(
        schema.safeParse(v).success,
        configSchema.safeParse(input).success,
        `${path}=${String(v)}`,
      );
    }
  }
});

test('secrets are left out of the config shown', () => {
  assert.deepEqual(
    withoutSecrets({
      a: 1,
      apiToken: 'x',
      nested: { privateKey: 'k', seedPhrase: 's', ok: [{ password: 'p', n: 2 }] },
    }),
    {
      a: 1,
      nested: { ok: [{ n: 2 }] },
    },
  );
});

test('transaction bytes: hex or base64, anything else refused', () => {
  assert.deepEqual([...decodeTxBytes('tx', 'DEADbeef')], [0xde, 0xad, 0xbe, 0xef]);
  assert.deepEqual([...decodeTxBytes('tx', Buffer.from([251, 255, 1]).toString('base64'))], [251, 255, 1]);
  assert.deepEqual([...decodeTxBytes('tx', Buffer.from([251, 255, 1]).toString('base64url'))], [251, 255, 1]);
  for (const bad of ['', 'abc!', 'a', '====', 'zz zz'])
    assert.throws(() => decodeTxBytes('tx', bad), ApiError, bad);
});

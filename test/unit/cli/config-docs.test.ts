import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { renderConfigDocs } from '../../../src/cli/config-docs.ts';
import { configFields } from '../../../src/config/fields.ts';

test('docs/configuration.md is the generated table (run `npm run gen:config-docs` after changing the schema)', () => {
  const committed = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
  const text = renderConfigDocs();
  assert.equal(committed, text);
  for (const f of configFields()) {
    assert.ok(text.includes(`| \`${f.path.join('.')}\` |`), f.path.join('.'));
    assert.ok(text.includes(`\`--${f.flag}\``), f.flag);
    assert.ok(text.includes(`\`${f.env}\``), f.env);
  }
});

test('the older flags are listed beside the fields they set', () => {
  const text = renderConfigDocs();
  assert.match(text, /\| `p2p\.nat\.upnp` \| `true` \| `--p2p-nat-upnp` `--no-upnp` `--no-nat` \|/);
  assert.match(
    text,
    /\| `proxy\.socksPort` \| `9050` \| `--proxy-socks-port` `--socks-port` `--no-socks` \|/,
  );
  assert.match(text, /`ANONNET_P2P_LISTEN` `ANONNET_LISTEN`/);
});

// The wallet file (DATA_DIR/wallet.key): made once with mode 0600, a key apart from the identity, its
// proof of work solved on demand at a difficulty and kept; a damaged file is refused, never replaced.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifySignature } from '../../../src/crypto/identity.ts';
import { verifyPow } from '../../../src/crypto/pow.ts';
import { prepareDataDir } from '../../../src/daemon/data-dir.ts';
import { DaemonError } from '../../../src/daemon/errors.ts';
import { loadOrCreateIdentity } from '../../../src/daemon/identity-file.ts';
import { loadOrCreateWallet, readWalletFile, solveWalletPow } from '../../../src/daemon/wallet-file.ts';
import { createWallet } from '../../../src/daemon/wallet-subsystem.ts';
import { createLogger } from '../../../src/log/logger.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'anonnet-wallet-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
const freshPath = () => join(dir, `wallet-${++n}.key`);
const isWalletError = (pattern: RegExp) => (err: unknown) =>
  err instanceof DaemonError && err.code === 'WALLET_FILE' && pattern.test(err.message);

describe('wallet file', () => {
  it('is made once, mode 0600, and read back the same', () => {
    const path = freshPath();
    const made = loadOrCreateWallet(path);
    assert.equal(made.created, true);
    assert.equal(made.pow, undefined, 'no proof of work until one is asked for');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const again = loadOrCreateWallet(path);
    assert.equal(again.created, false);
    assert.deepEqual(again.key.publicKey, made.key.publicKey);
    assert.deepEqual(readWalletFile(path).key.publicKey, made.key.publicKey);
    const msg = new TextEncoder().encode('transfer');
    assert.ok(verifySignature(made.key.publicKey, msg, again.key.sign(msg)));
  });

  it('is a key of its own, not the node identity', async () => {
    const walletPath = join(dir, 'own', 'wallet.key');
    const idPath = join(dir, 'own', 'identity.json');
    prepareDataDir(join(dir, 'own'));
    const id = await loadOrCreateIdentity(idPath, 0);
    const wallet = loadOrCreateWallet(walletPath);
    assert.notDeepEqual(wallet.key.publicKey, id.identity.publicKey);
  });

  it('solves its proof of work at a difficulty, keeps it, and solves again only for more', async () => {
    const path = freshPath();
    const made = loadOrCreateWallet(path);
    const solved = await solveWalletPow(path, made, 8);
    assert.ok(solved.pow !== undefined);
    assert.ok(verifyPow(made.key.publicKey, solved.pow.nonce, 8));
    const stored = readWalletFile(path);
    assert.deepEqual(stored.pow, solved.pow, 'saved with the difficulty it was solved for');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const mtime = statSync(path).mtimeMs;
    assert.equal(await solveWalletPow(path, stored, 6), stored, 'a lower difficulty keeps it');
    assert.equal(statSync(path).mtimeMs, mtime, 'and does not rewrite the file');
    const raised = await solveWalletPow(path, stored, 10);
    assert.ok(raised.pow !== undefined && raised.pow.difficulty === 10);
    assert.ok(verifyPow(made.key.publicKey, raised.pow.nonce, 10));
    assert.deepEqual(readWalletFile(path).key.publicKey, made.key.publicKey, 'same key');
  });

  it('forgets a stored nonce that does not verify (a claim with it would be refused)', () => {
    const path = freshPath();
    const made = loadOrCreateWallet(path);
    const file = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    let bad = 0n;
    while (verifyPow(made.key.publicKey, bad, 16)) bad++;
    writeFileSync(path, JSON.stringify({ ...file, powNonce: bad.toString(), powDifficulty: 16 }));
    assert.equal(readWalletFile(path).pow, undefined);
  });

  it('refuses a damaged file and never replaces it (it holds the account)', () => {
    const cases = [
      'not json',
      JSON.stringify({ version: 2, seed: '00'.repeat(32) }),
      JSON.stringify({ version: 1, seed: 'zz'.repeat(32) }),
      JSON.stringify({ version: 1, seed: '00'.repeat(31) }),
      JSON.stringify({ version: 1, seed: '00'.repeat(32), powNonce: '-1', powDifficulty: 4 }),
      JSON.stringify({ version: 1, seed: '00'.repeat(32), powNonce: '1', powDifficulty: 65 }),
      JSON.stringify({ version: 1, seed: '00'.repeat(32), powNonce: '1' }),
    ];
    for (const text of cases) {
      const path = freshPath();
      writeFileSync(path, text, { mode: 0o600 });
      assert.throws(() => loadOrCreateWallet(path), isWalletError(/damaged/), text);
      assert.equal(readFileSync(path, 'utf8'), text, 'left as it was');
    }
    assert.throws(() => readWalletFile(join(dir, 'missing.key')), isWalletError(/cannot read/));
  });

  it('the daemon solves the claim work in the background at the ledger difficulty and logs no key', async () => {
    const dataDir = mkdtempSync(join(dir, 'daemon-'));
    const logPath = join(dataDir, 'log');
    const log = createLogger({ level: 'debug', destination: logPath });
    const w = createWallet({ dataDir }, { log, powDifficulty: 8 });
    const account = w.status().wallet;
    assert.match(account, /^[0-9a-f]{64}$/);
    w.start();
    const deadline = Date.now() + 20_000;
    while (readWalletFile(join(dataDir, 'wallet.key')).pow === undefined && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const stored = readWalletFile(join(dataDir, 'wallet.key'));
    assert.ok(stored.pow !== undefined && verifyPow(stored.key.publicKey, stored.pow.nonce, 8));
    await w.stop();
    const noLedger = createWallet({ dataDir }, { log, powDifficulty: undefined });
    assert.equal(noLedger.status().wallet, account, 'the same wallet on the next start');
    const text = readFileSync(logPath, 'utf8');
    assert.match(text, /created a new wallet/);
    assert.equal(text.includes(account), false);
    assert.equal(text.includes(Buffer.from(stored.key.seed).toString('hex')), false);
  });
});

// The node's keys: its identity (loaded or created with its proof of work) and its onion keys, which
// rotate on a schedule; whoever advertises them (the descriptor publisher) hears of each rotation.
import { join } from 'node:path';
import type { Identity } from '../crypto/identity.ts';
import type { OnionKeyPair } from '../crypto/onion-keys.ts';
import type { Logger } from '../log/logger.ts';
import { files } from './data-dir.ts';
import { loadOrCreateIdentity } from './identity-file.ts';
import { loadOnionKeys, rotateOnionKeys, saveOnionKeys } from './onion-key-file.ts';
import type { Phase } from './progress.ts';
import type { Subsystem } from './subsystem.ts';

export interface IdentityOptions {
  readonly dataDir: string;
  readonly powDifficulty: number;
  readonly onionKeyLifetimeMs: number;
  readonly maxClockSkewMs: number;
}

export interface IdentityDeps {
  readonly log: Logger;
  readonly now: () => number;
  readonly progress: { reach(phase: Phase): void };
  readonly signal?: AbortSignal | undefined;
}

export interface IdentitySubsystem extends Subsystem {
  readonly identity: Identity;
  readonly powNonce: bigint;
  /** The onion keys in use now (the newest first, older ones while they may still be asked for). */
  onionKeys(): readonly OnionKeyPair[];
  /** Rotates the onion keys when due (called by the maintenance tick). */
  tick(): void;
  /** Called after each rotation; returns the function that unsubscribes. */
  onRotated(listener: () => void): () => void;
}

/** Rotation is looked at this often (or more often for short key lifetimes). */
const ROTATION_CHECK_MS = 60_000;

export async function createIdentity(opts: IdentityOptions, deps: IdentityDeps): Promise<IdentitySubsystem> {
  const { log, now } = deps;
  const { identity, powNonce, created } = await loadOrCreateIdentity(
    join(opts.dataDir, files.identity),
    opts.powDifficulty,
    deps.signal ? { signal: deps.signal } : {},
  );
  if (created) log.info('created a new node identity');
  deps.progress.reach('identity');

  const onionPath = join(opts.dataDir, files.onionKeys);
  const rotate = (keys: OnionKeyPair[]) =>
    rotateOnionKeys(keys, now(), opts.onionKeyLifetimeMs, opts.maxClockSkewMs);
  const first = rotate(loadOnionKeys(onionPath));
  if (first.changed) saveOnionKeys(onionPath, first.keys);
  let onionKeys = first.keys;
  let lastCheck = now();
  const listeners = new Set<() => void>();

  return {
    identity,
    powNonce,
    onionKeys: () => onionKeys,
    start: () => {
      lastCheck = now();
    },
    tick: () => {
      if (now() - lastCheck <= Math.min(ROTATION_CHECK_MS, opts.onionKeyLifetimeMs / 8)) return;
      lastCheck = now();
      const r = rotate(onionKeys);
      if (!r.changed) return;
      onionKeys = r.keys;
      saveOnionKeys(onionPath, onionKeys);
      for (const l of listeners) l();
    },
    onRotated: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop: () => listeners.clear(),
  };
}

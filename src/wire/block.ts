// Ledger blocks, commits, consensus votes and proposals: the shapes every layer shares.
// The shapes are in ./block-types.ts; the byte codecs, hashes and signing messages in ./block-codec.ts
// (both re-exported here, so every layer imports one module);
// docs/protocol.md, "Consensus", draws the layouts.
//
// A block at height h carries the state hash the ledger reached after block h-1 (appHash, as in
// Tendermint), so a block can be proposed without executing it first and every follower checks the
// hash when it applies the block. Heights start at 1; block 1's prevHash and appHash refer to the
// genesis state (prevHash = 32 zero bytes, appHash = stateHash(genesis state)).

export * from './block-codec.ts';
export type * from './block-types.ts';

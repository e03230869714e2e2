// Child process for the block-store crash test: appends blocks forever, printing each height once its
// append has returned, until the parent kills it with SIGKILL.
import { openBlockStore } from '../../../src/consensus/store/block-store.ts';
import { appendNext, storeDriver } from './store-chain.ts';

const path = process.argv[2];
if (path === undefined) throw new Error('usage: store-crash-child.ts <db path>');
const store = openBlockStore(path, { snapshotEvery: 7 });
const d = storeDriver();
store.loadState(d.state);
for (;;) {
  appendNext(d, store);
  process.stdout.write(`${d.state.height}\n`);
}

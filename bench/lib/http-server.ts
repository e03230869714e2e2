// A separate process serving the e2e fixture (small page and /big?mib=N) for benchmarks; prints its port.
import { startFixture } from '../../test/e2e/lib/http-fixture.ts';

const fixture = await startFixture();
process.stdout.write(`${fixture.port}\n`);
process.on('SIGTERM', () => void fixture.close().then(() => process.exit(0)));

// QUIC transport settings (@chainsafe/libp2p-quic). Kept apart so measurements can tune them:
// see docs/transports.md.
import type { QuicOptions } from '@chainsafe/libp2p-quic';

export const quicTransportOptions: Partial<QuicOptions> = {};

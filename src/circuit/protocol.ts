// libp2p protocol ids and limits of the circuit layer.
export const CIRCUIT_PROTOCOL = '/anonnet/circuit/1.0.0';

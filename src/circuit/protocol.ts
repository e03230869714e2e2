// libp2p protocol ids and limits of the circuit layer.
// 2.0.0: RELAY_EARLY cells bound circuit length, EXTEND only in RELAY_EARLY, authenticated circuit
// SENDMEs (docs/protocol.md, "Circuits"). A 1.0.0 node cannot build through a 2.0.0 relay: the ids
// differ, so the dial fails at protocol selection instead of mid-circuit.
export const CIRCUIT_PROTOCOL = '/anonnet/circuit/2.0.0';

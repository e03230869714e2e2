// Runs one scenario of the economy simulation in a worker thread (bench/economy-sim.ts --workers).
import { parentPort, workerData } from 'node:worker_threads';
import { type SimOptions, simulate } from './simulation.ts';

parentPort?.postMessage(simulate(workerData as SimOptions));

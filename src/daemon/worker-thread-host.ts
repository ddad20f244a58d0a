import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { RingproofConfig } from '../config/config-types.js';
import { ErrorCodes } from '../errors/codes.js';
import { RingproofError } from '../errors/ringproof-error.js';
import type { RemoteMetrics } from '../metrics/metrics.js';
import type { WorkerRole } from './worker-role.js';
import type { FromWorkerThread, ToWorkerThread, WorkerThreadData } from './worker-thread-messages.js';

/** A metrics request the thread does not answer in this time is served its previous answer. */
const METRICS_TIMEOUT_MS = 2000;

export interface WorkerThread extends WorkerRole {
  /** The thread's registry, for the main thread's /metrics (Metrics.remoteSources). */
  metrics(): Promise<RemoteMetrics>;
  /** Ends the thread at once (the embedded Redis is gone: its stop would wait forever). */
  abandon(): void;
}

/**
 * Role all with pipeline.workerThread: starts the worker role in a worker thread (worker-thread.ts)
 * and resolves once it runs. A thread that dies later is a fatal error of the daemon, as an uncaught
 * exception of in-process workers would be: `onFatal` is told (the serve command stops the daemon).
 */
export async function startWorkerThread(data: WorkerThreadData, logger: Logger, onFatal: (err: Error) => void): Promise<WorkerThread> {
  const worker = new Worker(new URL('./worker-thread.js', import.meta.url), { workerData: data });
  const send = (m: ToWorkerThread): void => worker.postMessage(m);
  const pending = new Map<number, (m: RemoteMetrics | undefined) => void>();
  let nextId = 0;
  /** The thread's last answer: a slow one must not make its counters vanish from a scrape (a reset to Prometheus). */
  let lastMetrics: RemoteMetrics = [];
  let stopping = false;
  let stopped: (() => void) | undefined;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));

  let startError: ((err: Error) => void) | undefined;
  let startExit: ((code: number) => void) | undefined;
  await new Promise<void>((resolve, reject) => {
    const fail = (why: string): void => reject(new RingproofError(ErrorCodes.WORKER_THREAD_FAILED, `workers thread: ${why}`));
    startError = (err) => fail(err.message);
    startExit = (code) => fail(`exited with code ${code} during start-up`);
    worker.once('error', startError);
    worker.once('exit', startExit);
    worker.on('message', (m: FromWorkerThread) => {
      if (m.kind === 'ready') resolve();
      else if (m.kind === 'failed') fail(m.message);
      else if (m.kind === 'metrics') {
        pending.get(m.id)?.(m.metrics);
        pending.delete(m.id);
      } else if (m.kind === 'stopped') stopped?.();
    });
  });
  worker.off('error', startError as (err: Error) => void);
  worker.off('exit', startExit as (code: number) => void);
  const died = (why: string): void => {
    if (stopping) return;
    const err = new RingproofError(ErrorCodes.WORKER_THREAD_FAILED, `workers thread: ${why}`);
    logger.fatal({ err, code: err.code }, 'the workers thread died');
    onFatal(err);
  };
  worker.on('error', (err) => died(err.message));
  worker.on('exit', (code) => died(`exited with code ${code}`));

  return {
    metrics: () => new Promise<RemoteMetrics>((resolve) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        resolve(lastMetrics);
      }, METRICS_TIMEOUT_MS);
      pending.set(id, (m) => {
        clearTimeout(timer);
        if (m !== undefined) lastMetrics = m;
        resolve(lastMetrics);
      });
      send({ kind: 'metrics', id });
    }),
    prepareReload: (next: RingproofConfig) => () => send({ kind: 'reload', config: next }),
    stop: async () => {
      if (stopping) return;
      stopping = true;
      // Jobs in flight finish in the thread (BullMQ close waits for them), then it exits.
      await new Promise<void>((resolve) => {
        stopped = resolve;
        send({ kind: 'stop' });
        void exited.then(resolve);
      });
      await worker.terminate();
    },
    abandon: () => {
      stopping = true;
      void worker.terminate();
    },
  };
}

import type { Worker } from 'bullmq';

/**
 * Closes a BullMQ Worker gracefully (jobs in flight finish), without the hang that follows a Redis
 * restart. Worker.close() interrupts its blocking BZPOPMIN by disconnecting the dedicated blocking
 * connection and waiting for ioredis' "end" event. A connection still waiting out its reconnect
 * backoff ("reconnecting": Redis was just restarted) has no socket to close: ioredis then only
 * cancels the retry timer and never emits "end", so close() would wait forever. Let that reconnect
 * finish first (a backoff step, at most ~2 s); the daemon's shutdown timeout bounds a Redis that
 * never comes back.
 */
export async function closeWorker(worker: Worker): Promise<void> {
  const client = await worker.backend.blockingClient;
  if (client?.status === 'reconnecting') {
    await new Promise<void>((res) => {
      client.once('ready', () => res());
      client.once('end', () => res());
    });
  }
  const closing = worker.close();
  // BullMQ cuts its blocking BZPOPMIN only when the call is in flight as close() starts; one the
  // run loop issues just after (restarting after a reconnect) would hold close() for its whole
  // timeout (~5 s, seen after a Redis restart). Jobs never travel on that connection (it only waits
  // for the queue's marker), so cutting it once close() has had a moment loses nothing.
  const settled = await Promise.race([closing.then(() => true), new Promise<false>((res) => setTimeout(() => res(false), 250).unref())]);
  if (!settled) client?.disconnect();
  await closing;
}

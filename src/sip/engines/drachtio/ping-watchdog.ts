import type { Socket } from 'node:net';
import type { SrfAgent } from './srf-seam.js';

export interface PingWatchdogOptions {
  intervalMs: number;
  timeoutMs: number;
  /** The server left a ping unanswered past the deadline. */
  onTimeout(socket: Socket): void;
}

/**
 * Pings drachtio-server over the wire protocol and holds each ping to a deadline. drachtio-srf's own
 * pings are fire-and-forget (their pongs are never checked), so a connection whose server side stopped
 * reading — both processes up, the socket open, nothing answered — goes unnoticed forever without this.
 */
export class PingWatchdog {
  private timer: NodeJS.Timeout | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private socket: Socket | undefined;
  /** Round trip of the last answered ping, ms. */
  lastRttMs: number | undefined;

  constructor(
    private readonly agent: () => SrfAgent | undefined,
    private readonly opts: PingWatchdogOptions,
  ) {}

  attach(socket: Socket): void {
    this.detach();
    this.socket = socket;
    this.timer = setInterval(() => this.ping(), this.opts.intervalMs);
    this.timer.unref();
  }

  detach(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.deadline) clearTimeout(this.deadline);
    this.timer = undefined;
    this.deadline = undefined;
    this.socket = undefined;
  }

  private ping(): void {
    // One ping in flight at a time: its deadline decides.
    if (this.deadline !== undefined) return;
    const socket = this.socket;
    const agent = this.agent();
    const entry = socket ? agent?.mapServer.get(socket) : undefined;
    if (!socket || !agent || !entry || socket.destroyed) return;
    const sentAt = performance.now();
    const id = agent.wp.send(socket, 'ping');
    entry.pendingRequests.set(id, () => {
      this.lastRttMs = performance.now() - sentAt;
      if (this.deadline) clearTimeout(this.deadline);
      this.deadline = undefined;
    });
    this.deadline = setTimeout(() => {
      this.deadline = undefined;
      entry.pendingRequests.delete(id);
      if (this.socket === socket) this.opts.onTimeout(socket);
    }, this.opts.timeoutMs);
    this.deadline.unref();
  }
}

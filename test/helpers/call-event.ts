import { randomUUID } from 'node:crypto';
import type { CallEvent } from '../../src/edge/call-event.js';

/** A well-formed CallEvent as an edge queues it (UDP INVITE from a loopback trunk, CLI from PAI), received now. */
export function testCallEvent(did: string, over: Partial<CallEvent> = {}): CallEvent {
  return {
    v: 1, trunk: 'carrier-a', source: { address: '127.0.0.1', port: 5060 }, transport: 'udp',
    callId: `${randomUUID()}@198.51.100.7`, cli: '+447700900001', cliOrigin: 'pai', cliRaw: '+447700900001',
    did, didRaw: did, verstat: null, identity: null, userAgent: 'test', rejectCode: 486,
    receivedAt: Date.now(), ...over,
  };
}

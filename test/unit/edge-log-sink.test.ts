import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CallEvent } from '../../src/edge/call-event.js';
import { LogSink } from '../../src/edge/log-sink.js';
import { createLogger } from '../../src/log/logger.js';
import type { LogLevel } from '../../src/config/config-types.js';

const event: CallEvent = {
  v: 1, trunk: 't', source: { address: '127.0.0.1', port: 5060 }, transport: 'udp', callId: 'c1',
  cli: '+447700900123', cliOrigin: 'pai', cliRaw: '07700900123', did: '+12025550123', didRaw: '2025550123',
  verstat: null, identity: null, userAgent: 'ua', rejectCode: 486, receivedAt: 1,
};

function capture(level: LogLevel) {
  let text = '';
  const destination = new Writable({ write(chunk, _e, cb) { text += String(chunk); cb(); } });
  return { logger: createLogger({ level, destination }), text: () => text };
}

describe('LogSink', () => {
  it('logs each event at debug with numbers masked', async () => {
    const c = capture('debug');
    const sink = new LogSink(c.logger);
    expect(sink.ready).toBe(true);
    sink.publish(event);
    await sink.close();
    const line = JSON.parse(c.text().trim()) as { level: string; event: CallEvent };
    expect(line.level).toBe('debug');
    expect(line.event.callId).toBe('c1');
    expect(line.event.cli).toBe('+447*******23');
    expect(line.event.did).toBe('+120******23');
    expect(c.text()).not.toContain('447700900123');
    expect(c.text()).not.toContain('2025550123');
  });

  it('writes nothing above debug level', () => {
    const c = capture('info');
    new LogSink(c.logger).publish(event);
    expect(c.text()).toBe('');
  });
});

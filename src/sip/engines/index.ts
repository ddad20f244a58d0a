/** The SIP engines: ringproof's own (native) and drachtio-srf behind a drachtio-server. */
export { DrachtioEngine } from './drachtio/drachtio-engine.js';
export { NativeEngine } from './native-engine.js';

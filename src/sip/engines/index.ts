/** The SIP engines: ringproof's own (native) and drachtio-srf behind a drachtio-server, each with its flash-call UAC. */
export { createFlashUac } from './create-uac.js';
export { DrachtioEngine } from './drachtio/drachtio-engine.js';
export { DrachtioUac, type DrachtioUacOptions } from './drachtio/drachtio-uac.js';
export { NativeEngine } from './native-engine.js';

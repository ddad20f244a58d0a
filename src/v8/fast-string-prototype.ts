/**
 * Puts String.prototype back in V8's fast-properties mode, which every parser on the SIP path needs.
 *
 * A module that subclasses String (ioredis does: `class VerbatimString extends String`) leaves
 * String.prototype a dictionary-mode object, and V8 only makes a prototype fast again from an
 * inline-cache miss on an *object* receiver: calls on primitive strings never do. Until then every
 * `s.charCodeAt`, `s.indexOf`, `s.slice` in optimized code is a generic LoadIC call, which was about
 * a quarter of the native engine's CPU per call under load. One property read on a String wrapper
 * through an inline cache makes V8 migrate it and mark it "should stay fast", so later subclasses
 * no longer slow it down. Nothing observable changes.
 */
export function keepStringPrototypeFast(): void {
  const wrapper = Object('');
  // V8 gives a function feedback (and so inline caches) only after it has run a few times.
  for (let i = 0; i < 16; i++) readThroughWrapper(wrapper);
}

function readThroughWrapper(wrapper: object): unknown {
  return (wrapper as { charCodeAt?: unknown }).charCodeAt;
}

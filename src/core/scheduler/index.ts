/** Pure scheduling decisions: which worker takes a task, and which workers sit out a while. */
export * from './breaker.js';
export * from './select.js';

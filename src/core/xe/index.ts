/** Public API of the `xe` layer: command building, output parsers and typed errors. */
export * from './command';
export * from './errors';
export * from './records';
export * from './results';
export * from './operations';
export * from './userCommand';

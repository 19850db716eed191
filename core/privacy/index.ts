/** Privacy: the person an erasure is about, rewriting the lake without them, and the erasure itself. */
export * from './subject';
export * from './rewrite';
export * from './erasure';
export * from './curation';

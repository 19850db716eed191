/** User profiles: the model, window aggregation, the ledger and the exactly-once merge, pruning and read-time features. */
export * from './model';
export * from './profile-event';
export * from './fold';
export * from './window-state';
export * from './ledger';
export * from './merge';
export * from './stitch';
export * from './writer';
export * from './item-size';
export * from './derive';
export * from './aggregate';

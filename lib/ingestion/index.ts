export * from './event-streams';
export * from './ingestion';
export * from './validation-stage';

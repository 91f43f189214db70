export * from './access-review-instance';
export * from './access-review-shard';
export * from './guest-deletion';
export * from './review-series';
export * from './health-probe';
